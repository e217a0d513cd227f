"""ASE/EACVI grading as pure functions, its tables, study-level grading, ambiguity bands, diastology,
consistency warnings and the deterministic template baseline."""

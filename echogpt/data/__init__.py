"""Studies in: JSONL/CSV/Parquet import, column mappings, validation runs, patient splits, JSON Schemas."""

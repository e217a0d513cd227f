"""Batch drafting jobs, their tables and their worker."""

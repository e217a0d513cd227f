"""Blinded reader studies: design, the admin side, the reader side, statistics and tables."""

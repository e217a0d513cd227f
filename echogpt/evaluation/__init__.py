"""Metrics, the evaluation suite, statistics and the HTML report."""

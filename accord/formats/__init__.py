"""Locale format overrides (FORMAT_MODULE_PATH): how Accord writes numbers and dates."""

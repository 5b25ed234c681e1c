"""Automatic extraction: what a record already says about its trial (acronym, registration,
design, size, condition, job roles) and which curated study it belongs to."""

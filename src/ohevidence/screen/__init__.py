"""Screening stage: eligibility rules, active-learning ranking, dual-reviewer decisions and sheets."""

"""Realistic demo data for `socdesk demo` (and `socdesk run`'s first run).

It sits above every app because it writes through all of them: people (accounts), tickets, sample
alerts through the ingest pipeline, and the audit marker. By concept: people.py (organisation and
people), scenarios.py (kinds of ticket and their words), stories.py (each ticket played forward and
re-dated), alerts.py (sample alerts through the real pipeline), seed.py (the one idempotent entry point).
"""

"""Celery entry points: thin, idempotent, take primary keys, call services."""

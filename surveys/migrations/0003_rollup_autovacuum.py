"""Autovacuum for the tables every rollup pass rewrites: the change table (a pass deletes the
changes it takes in) and the rollup tables (a pass updates the rows of the recent months and
their years in place). PostgreSQL's default waits until a fifth of a table is dead; these
tables are vacuumed once a thousand rows are, so within a minute of a busy pass. Dead row
versions left behind make the next pass's lookups follow them (and, without a vacuum, check
each one's transaction): docs/BENCHMARKS.md measures the difference."""

from django.db import migrations

TABLES = ["surveys_rollupchange", "surveys_scorerollup", "surveys_contactrollup"]
SETTINGS = {"autovacuum_vacuum_scale_factor": "0", "autovacuum_vacuum_threshold": "1000"}


def set_autovacuum(apps, schema_editor):
    values = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET ({values})")


def reset_autovacuum(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET ({', '.join(SETTINGS)})")


class Migration(migrations.Migration):
    dependencies = [("surveys", "0002_rollup_fillfactor")]

    operations = [migrations.RunPython(set_autovacuum, reset_autovacuum)]

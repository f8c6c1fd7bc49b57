"""Free space in the pages of the rollup tables, so that the rollup pass updates rows in place
(PostgreSQL's HOT updates: no new index entries). The recount writes the rows ordered by
period, so a pass updates every row of the few pages that hold the recent months: half of each
page is kept free for that. Not part of the initial migration because Django has no model
option for storage parameters."""

from django.db import migrations

TABLES = ["surveys_scorerollup", "surveys_contactrollup"]


def set_fillfactor(apps, schema_editor, value="50"):
    for table in TABLES:
        if value is None:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")


def reset_fillfactor(apps, schema_editor):
    set_fillfactor(apps, schema_editor, value=None)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]

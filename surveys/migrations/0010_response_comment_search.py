"""The Dutch full-text index on residents' comments, for the search of the responses list. Built
CONCURRENTLY, so that residents' responses keep being stored while it is built on a large table."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("surveys", "0009_key_figures"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="response",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector("comment", config="dutch"), name="response_comment_fts"
            ),
        ),
    ]

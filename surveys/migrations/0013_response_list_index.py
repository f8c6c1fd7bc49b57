"""The responses list's order as an index (newest month of contact first), built CONCURRENTLY so
that residents' responses keep being stored while it is built on a large table."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("surveys", "0012_follow_ups"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="response",
            index=models.Index(fields=["organisation", "-contact_month", "-submitted_at"], name="response_list_idx"),
        ),
    ]

"""`make run` without configuration: SQLite, eager Celery, no Redis. This runs that path in a
subprocess (migrate, then seed_demo) so that it cannot rot while the suite runs on PostgreSQL."""

import os
import re
import sqlite3
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A smaller seed keeps the test quick; the yearly means are exact at any scale.
SCALE = "0.2"


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def embedded_env(database: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="kto.settings.dev",
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL="",
    )
    return env


def test_migrate_and_seed_demo_twice_work_on_the_embedded_sqlite_default(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = embedded_env(database)

    migrated = manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = manage("seed_demo", "--scale", SCALE, env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "kcc-stichtse-vecht" in seeded.stdout

    # Run again, as every `make run` does: nothing is added.
    again = manage("seed_demo", "--scale", SCALE, env=env)
    assert again.returncode == 0, again.stderr
    assert "(0 new)" in again.stdout
    printed_totals = {
        int(re.search(r"([\d,]+) responses", out).group(1).replace(",", "")) for out in (seeded.stdout, again.stdout)
    }

    with sqlite3.connect(database) as db:
        per_organisation = dict(
            db.execute(
                "SELECT o.slug, COUNT(*) FROM surveys_response r "
                "JOIN surveys_organisation o ON o.id = r.organisation_id GROUP BY o.slug"
            ).fetchall()
        )
        assert per_organisation.keys() == {"stichtse-vecht", "utrecht"}
        assert min(per_organisation.values()) > 1000
        assert printed_totals == {db.execute("SELECT COUNT(*) FROM surveys_response").fetchone()[0]}

        means = db.execute(
            "SELECT o.slug, r.channel, CAST(strftime('%Y', r.contact_month) AS INTEGER), "
            "SUM(r.score), COUNT(*) FROM surveys_response r "
            "JOIN surveys_organisation o ON o.id = r.organisation_id GROUP BY 1, 2, 3"
        ).fetchall()
        # Celery runs eagerly: the rollups took in every change when the seed committed.
        pending = db.execute("SELECT COUNT(*) FROM surveys_rollupchange").fetchone()[0]
        years = db.execute(
            "SELECT o.slug, r.channel, CAST(strftime('%Y', r.period_start) AS INTEGER), r.total, r.n "
            "FROM surveys_scorerollup r JOIN surveys_organisation o ON o.id = r.organisation_id "
            "WHERE r.period = 'year' AND r.question_key = 'rapportcijfer' AND r.channel <> 'all'"
        ).fetchall()
    published = {(slug, channel, year): Decimal(total) / n for slug, channel, year, total, n in means}
    rolled_up = {(slug, channel, year): Decimal(total) / n for slug, channel, year, total, n in years}
    assert pending == 0
    assert rolled_up == published
    for key, figure in figures.PUBLISHED_SCORES.items():
        assert published[key].quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) == figure, key


CONTACT_SCRIPT = """
from django.utils import timezone
organisation = Organisation.objects.get(slug="utrecht")
result = register_contact(
    organisation=organisation, channel="telefoon", contact_moment=timezone.now(), reference="sqlite-1",
    recipient="inwoner@example.nl", method="email",
)
print("invited", result.invited, result.invitation.status)
"""


def test_contacts_are_registered_and_invitations_sent_on_the_embedded_default(tmp_path):
    """The embedded default has no COPY and no worker: registration falls back to plain inserts
    and the eager task sends the e-mail to the console."""
    env = embedded_env(tmp_path / "db.sqlite3")
    assert manage("migrate", "--noinput", env=env).returncode == 0
    assert manage("seed_demo", "--scale", "0.01", env=env).returncode == 0
    registered = manage("shell", "-c", CONTACT_SCRIPT, env=env)
    assert registered.returncode == 0, registered.stderr
    assert "invited True" in registered.stdout
    assert "inwoner@example.nl" in registered.stdout  # the console e-mail backend shows the message


CORRECTION_SCRIPT = """
from django.db import transaction
from surveys.demo import figures
from surveys.invitations.contacts import register_contact
from surveys.organisations.models import Organisation
from surveys.responses.models import Response
from surveys.responses.services import delete_responses
from surveys.rollups.models import ContactRollup, RollupChange, ScoreRollup
from surveys.rollups.recount import rollup_full

def rows():
    scores = ScoreRollup.objects.values_list("organisation_id", "channel", "question_key", "period", "period_start",
                                             "n", "total", "total_sq", "count_1", "count_10")
    contacts = ContactRollup.objects.values_list("organisation_id", "channel", "period", "period_start",
                                                 "contacts_registered", "invitations_sent")
    return sorted(map(tuple, scores)), sorted(map(tuple, contacts))

# One channel-month loses all its responses (its rows go), others only some.
month = Response.objects.values("organisation_id", "channel", "contact_month").order_by("contact_month").first()
doomed = [*Response.objects.filter(**month).values_list("pk", flat=True),
          *Response.objects.order_by("-pk").values_list("pk", flat=True)[:5]]
with transaction.atomic():
    delete_responses(doomed)
print("pending", RollupChange.objects.count())
after_pass = rows()
rollup_full()
print("equal", after_pass == rows(), len(after_pass[0]))
"""


def test_deleting_responses_on_the_embedded_default_gives_the_figures_of_a_recount(tmp_path):
    """SQLite takes changes in with its own statements: a pass that takes figures away (and
    empties rows) must give the rows a recount gives."""
    env = embedded_env(tmp_path / "db.sqlite3")
    assert manage("migrate", "--noinput", env=env).returncode == 0
    assert manage("seed_demo", "--scale", "0.01", env=env).returncode == 0
    corrected = manage("shell", "-c", CORRECTION_SCRIPT, env=env)
    assert corrected.returncode == 0, corrected.stderr
    assert "pending 0" in corrected.stdout  # the eager pass ran when the delete committed
    assert "equal True" in corrected.stdout

"""`make run` without configuration: the embedded PostgreSQL server (kto/embedded_db.py) with its
data in the checkout, eager Celery and no Redis. These run that path in subprocesses, on a server
of their own, so that it cannot rot while the suite runs on the machine's PostgreSQL."""

import json
import os
import shutil
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kto import embedded_db
from surveys.demo import figures

ROOT = Path(__file__).resolve().parents[2]
SCALE = "0.2"  # a smaller seed keeps the test quick; the yearly means are exact at any scale

FIGURES_SCRIPT = """
import json
from surveys.responses.models import Response
from surveys.rollups.models import RollupChange, ScoreRollup
rows = ScoreRollup.objects.filter(period="year", question_key="rapportcijfer").exclude(channel="all")
print(json.dumps({
    "responses": Response.objects.count(),
    "pending": RollupChange.objects.count(),
    "years": [[r.organisation.slug, r.channel, r.period_start.year, r.total, r.n] for r in rows],
}))
"""

CONTACT_SCRIPT = """
from django.utils import timezone
from surveys.invitations.contacts import register_contact
from surveys.organisations.models import Organisation
result = register_contact(
    organisation=Organisation.objects.get(slug="utrecht"), channel="telefoon", contact_moment=timezone.now(),
    reference="embedded-1", recipient="inwoner@example.nl", method="email",
)
print("invited", result.invited, result.invitation.status)
"""

CORRECTION_SCRIPT = """
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
delete_responses(doomed)
print("pending", RollupChange.objects.count())
after_pass = rows()
rollup_full()
print("equal", after_pass == rows())
"""


@pytest.fixture(scope="module")
def pgdata():
    """A data folder of its own inside the checkout (as root the server's user must reach it,
    which a 0700 temporary folder would not let it)."""
    folder = ROOT / f".pgdata-test-{os.getpid()}"
    yield folder
    subprocess.run([sys.executable, "kto/embedded_db.py", "stop"], cwd=ROOT, env=_env(folder), check=False)
    shutil.rmtree(folder, ignore_errors=True)


def _env(pgdata: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_", "KTO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, "DJANGO_SETTINGS_MODULE": "kto.settings.dev", "KTO_PGDATA": str(pgdata)}


def served(pgdata: Path, *commands: str) -> subprocess.CompletedProcess:
    """``commands`` in one shell, against the embedded server, which runs for as long as they do."""
    script = " && ".join(f"{sys.executable} manage.py {command}" for command in commands)
    return subprocess.run(
        [sys.executable, "kto/embedded_db.py", "run", "--", "sh", "-c", script],
        cwd=ROOT,
        env=_env(pgdata),
        capture_output=True,
        text=True,
        timeout=600,
    )


def running(pgdata: Path) -> bool:
    return (pgdata / "postmaster.pid").exists()


@pytest.fixture(scope="module")
def seeded(pgdata):
    """migrate and seed_demo twice, as two `make run`s do, then the figures the rollups hold."""
    first = served(pgdata, "migrate --noinput", f"seed_demo --scale {SCALE}")
    assert first.returncode == 0, first.stderr
    assert not running(pgdata)  # stopped once the command ended
    again = served(pgdata, "migrate --noinput", f"seed_demo --scale {SCALE}", f"shell -c '{FIGURES_SCRIPT}'")
    assert again.returncode == 0, again.stderr
    return first.stdout, again.stdout


def test_the_demo_is_served_from_the_embedded_postgresql_and_kept_between_runs(seeded, pgdata):
    first, again = seeded
    assert "kcc-stichtse-vecht" in first
    assert "(0 new)" in again  # the second run found the data of the first
    state = json.loads(again.strip().splitlines()[-1])
    assert f"{state['responses']:,} responses" in first
    assert state["pending"] == 0  # Celery runs eagerly: each change was rolled up when it committed
    means = {(slug, channel, year): Decimal(total) / n for slug, channel, year, total, n in state["years"]}
    for key, published in figures.PUBLISHED_SCORES.items():
        assert means[key].quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) == published, key
    if os.geteuid() == 0:  # PostgreSQL refuses root: its files belong to the server's own user
        assert pgdata.stat().st_uid == embedded_db.pwd.getpwnam(embedded_db.SERVER_USER).pw_uid


def test_a_contact_gets_its_invitation_on_the_console_without_a_worker(seeded, pgdata):
    registered = served(pgdata, f"shell -c '{CONTACT_SCRIPT}'")
    assert registered.returncode == 0, registered.stderr
    assert "invited True" in registered.stdout
    assert "inwoner@example.nl" in registered.stdout  # the console e-mail backend shows the message


def test_deleting_responses_gives_the_figures_of_a_recount(seeded, pgdata):
    corrected = served(pgdata, f"shell -c '{CORRECTION_SCRIPT}'")
    assert corrected.returncode == 0, corrected.stderr
    assert "pending 0" in corrected.stdout  # the eager pass ran when the delete committed
    assert "equal True" in corrected.stdout


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "mysql://root@127.0.0.1/kto"])
def test_a_database_url_that_is_not_postgresql_is_refused_at_start(url):
    env = {**_env(ROOT / ".pgdata-unused"), "DATABASE_URL": url}
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL (postgres://...)" in checked.stderr
    assert "Traceback" not in checked.stderr.split("ImproperlyConfigured")[-1]

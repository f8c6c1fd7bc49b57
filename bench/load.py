"""Load benchmark (not a test, issue 15): everything at once under gunicorn with the production
settings, then the figures checked against a recount, then the open form's POST rate against a
bare Django view that does one INSERT, under the same gunicorn in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kto_bench_load \\
        .venv/bin/python bench/load.py [--duration 30] [--rounds 2]

The mixed phase runs five wrk clients side by side (each -t1) against one gunicorn (4 sync
workers, bench/bare_site.py as settings: the production settings with the project's URLs):

  open form    GET of /o/<slug>/balie/ (-c3) and POST of a score and a comment (-c3)
  invitations  POST of a score to /s/<token>/ (-c2), every token once
  one-click    GET of /s/<token>/<score>/ (-c2), every token once
  integrators  POST /api/v1/contacts/bulk/ with 50 contacts (-c1), half of them with an e-mail
               address that KTO mails the invitation to

while a real Celery worker and beat run (the rollup pass every 5 s instead of every 2 minutes,
the deliveries sent to an SMTP sink in this process). Afterwards the bench waits for the worker
to send every delivery, takes a last pass and compares every rollup row with a full recount.
Then the open form's POST and the bare view's POST (bench/bare_urls.py, a second gunicorn) in
turn, with wrk -t2 -c16, for every round, as bench/form_throughput.py measures them.

Valid when no wrk client saw a non-2xx/3xx answer or a socket error, every answered request
stored what it sent (rows stored >= answered, and at most one more per open connection), the sink
received each delivery exactly once, and the pass equals the recount. The per-client rate limits
are off (each wrk is one client); docs/BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.form_throughput import (  # noqa: E402 (after the path: the bench is run as a script)
    POST_LUA,
    SLUG,
    WORK,
    environment,
    free_port,
    manage,
    parse_wrk,
    prepare,
    start_server,
    stop_server,
    wait_until_ready,
    wrk,
)

BULK = 50  # contacts per bulk call
TOKENS_PER_SECOND = 250  # more than a client uses: every token is used once
PASS_SECONDS = 5
# wrk's default of 2 s counts a slow answer as an error; a resident's browser waits far longer.
# The answers' latency (mean, 99th percentile, maximum) is reported beside it.
TIMEOUT = 10
SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from surveys.api.models import ApiKey
from surveys.invitations.contacts import ContactInput, register_contacts
from surveys.organisations.models import Organisation, OrganisationChannel
from surveys.questionnaires.services import create_default_survey

organisation = Organisation.objects.get(slug="{slug}")
OrganisationChannel.objects.create(organisation=organisation, channel="email")
create_default_survey(organisation=organisation, channel="email")
_, key = ApiKey.objects.create_key(organisation=organisation, name="load bench")
moment = timezone.now() - timedelta(hours=1)
tokens = []
for first in range(0, {tokens}, 1000):
    batch = [ContactInput(channel="email", contact_moment=moment) for _ in range(min(1000, {tokens} - first))]
    tokens += [result.token for result in register_contacts(organisation=organisation, contacts=batch)]
half = len(tokens) // 2
open("{work}/key.txt", "w").write(key)
open("{work}/one-click.txt", "w").write("\\n".join(tokens[:half]) + "\\n")
open("{work}/invitation.txt", "w").write("\\n".join(tokens[half:]) + "\\n")
"""
VERIFY = """
import json, time
from django.db.models import Count
from surveys.invitations.models import Contact, Delivery
from surveys.responses.models import Response
from surveys.rollups.incremental import rollup_incremental
from surveys.rollups.models import ContactRollup, RollupChange, ScoreRollup
from surveys.rollups.recount import rollup_full

deadline = time.monotonic() + 180
while Delivery.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
    time.sleep(1)

def rows():
    return [
        sorted(tuple(sorted((k, str(v)) for k, v in row.items() if k not in ("id", "computed_at")))
               for row in model.objects.values())
        for model in (ScoreRollup, ContactRollup)
    ]

pending_before = RollupChange.objects.count()
started = time.monotonic()
rollup_incremental()
last_pass_s = time.monotonic() - started
after_pass = rows()
rollup_full()
after_recount = rows()
print(json.dumps({
    "responses": dict(Response.objects.values_list("source").annotate(n=Count("id"))),
    "contacts_registered": Contact.objects.filter(reference__startswith="load-").count(),
    "deliveries": dict(Delivery.objects.values_list("status").annotate(n=Count("id"))),
    "pending_changes_before_last_pass": pending_before,
    "last_pass_s": round(last_pass_s, 3),
    "rollup_rows": [len(table) for table in after_pass],
    "pass_equals_recount": after_pass == after_recount,
}))
"""


def lua(work: Path) -> dict[str, str]:
    """One Lua script per client; wrk's format() replaces the -H headers, so each request names
    the forwarded protocol itself (the production settings trust the proxy's X-Forwarded-Proto)."""
    tokens = """local tokens = {{}}
for line in io.lines("{file}") do tokens[#tokens + 1] = line end
local i = 0
"""
    return {
        "open-get": 'wrk.headers["X-Forwarded-Proto"] = "https"\n',
        "open-post": POST_LUA + 'wrk.headers["X-Forwarded-Proto"] = "https"\n',
        "invitation": tokens.format(file=work / "invitation.txt")
        + """request = function()
  i = i + 1
  local headers = {["X-Forwarded-Proto"] = "https", ["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", "/s/" .. tokens[i] .. "/", headers, "score=" .. (i % 10 + 1) .. "&comment=Snel+antwoord")
end
""",
        "one-click": tokens.format(file=work / "one-click.txt")
        + """request = function()
  i = i + 1
  return wrk.format("GET", "/s/" .. tokens[i] .. "/" .. (i % 10 + 1) .. "/", {["X-Forwarded-Proto"] = "https"})
end
""",
        "bulk": f"""local key = io.open("{work / "key.txt"}"):read("*l")
local call = 0
request = function()
  call = call + 1
  local moment = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() - 600)
  local items = {{}}
  for n = 1, {BULK} do
    local reference = "load-" .. call .. "-" .. n
    local item = '{{"channel": "email", "contact_moment": "' .. moment .. '", "reference": "' .. reference .. '"'
    if n % 2 == 0 then
      item = item .. ', "method": "email", "recipient": "' .. reference .. '@example.nl"'
    end
    items[n] = item .. "}}"
  end
  local headers = {{["X-Forwarded-Proto"] = "https", ["Content-Type"] = "application/json",
                   ["Authorization"] = "Api-Key " .. key}}
  return wrk.format("POST", "/api/v1/contacts/bulk/", headers, '{{"contacts": [' .. table.concat(items, ",") .. "]}}")
end
""",
    }


CLIENTS = {  # name: (path, connections)
    "open-get": (f"/o/{SLUG}/balie/", 3),
    "open-post": (f"/o/{SLUG}/balie/", 3),
    "invitation": ("/", 2),
    "one-click": ("/", 2),
    "bulk": ("/", 1),
}


class Sink:
    """The SMTP server the worker delivers to: every recipient it was sent to, in order."""

    def __init__(self):
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def mixed_phase(base: str, duration: int) -> dict[str, dict]:
    """The five clients at once; their wrk summaries."""
    started = {}
    for name, (path, connections) in CLIENTS.items():
        command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", f"--timeout={TIMEOUT}s", "--latency"]
        command += ["-s", str(WORK / f"{name}.lua"), base + path]
        started[name] = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    return {name: parse_wrk(process.communicate()[0]) for name, process in started.items()}


def celery(name: str, env: dict[str, str], *args: str) -> subprocess.Popen:
    log = open(WORK / f"celery-{name}.log", "w")  # noqa: SIM115 (open for the process's lifetime)
    command = [str(Path(sys.executable).parent / "celery"), "-A", "kto", *args, "--loglevel=WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of the mixed phase")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of form POST against bare POST")
    parser.add_argument("--round-seconds", type=int, default=10)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database, e.g. .../kto_bench_load")
    WORK.mkdir(parents=True, exist_ok=True)
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port(2525))
    smtp.start()
    env = environment(url) | {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "BENCH_ROLLUP_SECONDS": str(PASS_SECONDS),
    }
    tokens = TOKENS_PER_SECOND * args.duration * 2
    started = time.monotonic()
    prepare(url, env)
    manage(env, "shell", "-v0", "-c", SETUP.format(slug=SLUG, tokens=tokens, work=WORK))
    for name, script in lua(WORK).items():
        (WORK / f"{name}.lua").write_text(script)
    (WORK / "post.lua").write_text(POST_LUA)
    processes: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops the servers too (finally)
    try:
        form_port = free_port(8101)
        project = {**env, "BENCH_URLCONF": "kto.urls"}  # the form server, the worker and the beat
        processes["form"] = start_server("form", form_port, project)
        bare_port = free_port(form_port + 1)
        processes["bare"] = start_server("bare", bare_port, env)
        form, bare = f"http://127.0.0.1:{form_port}", f"http://127.0.0.1:{bare_port}"
        wait_until_ready("form", processes["form"], f"{form}/o/{SLUG}/balie/")
        wait_until_ready("bare", processes["bare"], f"{bare}/bare/")
        processes["worker"] = celery("worker", project, "worker", "--concurrency=1", "--without-gossip")
        processes["beat"] = celery("beat", project, "beat", f"--schedule={WORK / 'celerybeat-schedule'}")
        mixed = mixed_phase(form, args.duration)
        print(json.dumps({"mixed": mixed}, indent=2), flush=True)
        rounds: dict[str, list[dict]] = {"form": [], "bare": []}
        for _ in range(args.rounds):
            rounds["form"].append(wrk(f"{form}/o/{SLUG}/balie/", "POST", args.round_seconds))
            rounds["bare"].append(wrk(f"{bare}/bare/", "POST", args.round_seconds))
        checked = json.loads(
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-v0", "-c", VERIFY],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    finally:
        for process in processes.values():
            stop_server(process)
        smtp.stop()
    if not report(args, mixed, rounds, checked, sink.recipients, time.monotonic() - started):
        sys.exit(1)


def report(args, mixed: dict, rounds: dict, checked: dict, mailed: list[str], seconds: float) -> bool:
    answered = {name: result["requests"] for name, result in mixed.items()}
    connections = {name: c for name, (_, c) in CLIENTS.items()}
    posts = sum(run["requests"] for run in rounds["form"])
    expected = {  # rows stored for what was answered: at least, and at most one per open connection more
        "open": (answered["open-post"] + posts, connections["open-post"] + 16 * args.rounds),
        "invitation": (answered["invitation"], connections["invitation"]),
        "one_click": (answered["one-click"], connections["one-click"]),
    }
    stored = checked["responses"]
    responses_ok = {
        source: least <= stored.get(source, 0) <= least + slack for source, (least, slack) in expected.items()
    }
    contacts_least = answered["bulk"] * BULK
    contacts_ok = contacts_least <= checked["contacts_registered"] <= contacts_least + BULK
    sent = checked["deliveries"].get("sent", 0)
    every_delivery_sent = sent == sum(checked["deliveries"].values())
    mail_ok = every_delivery_sent and len(set(mailed)) == len(mailed) == sent
    errors = sum(r["non_2xx_3xx"] + r["socket_errors"] for r in [*mixed.values(), *rounds["form"], *rounds["bare"]])
    ratios = [f["rps"] / b["rps"] for f, b in zip(rounds["form"], rounds["bare"], strict=True)]
    valid = not errors and all(responses_ok.values()) and contacts_ok and mail_ok and checked["pass_equals_recount"]
    result = {
        "settings": {**vars(args), "cpus": os.cpu_count(), "clients": CLIENTS, "bulk": BULK, "pass_s": PASS_SECONDS}
        | {"wrk_timeout_s": TIMEOUT},
        "mixed": mixed,
        "rounds": rounds,
        "post_ratio": {"median": statistics.median(ratios), "rounds": ratios},
        "checked": checked,
        "mailed": len(mailed),
        "responses_ok": responses_ok,
        "contacts_ok": contacts_ok,
        "mail_ok": mail_ok,
        "errors": errors,
        "valid": valid,
        "wall_s": round(seconds, 1),
    }
    print(json.dumps(result, indent=2))
    rate = {name: f"{r['rps']:.0f}/s (p99 {r['latency_p99']}, max {r['latency_max']})" for name, r in mixed.items()}
    print(
        f"\nMixed phase, {args.duration} s: {rate} (bulk calls of {BULK} contacts); errors {errors}; "
        f"responses stored {stored} for {answered} answered; contacts {checked['contacts_registered']} for "
        f"{contacts_least}; deliveries {checked['deliveries']}, mails received {len(mailed)} "
        f"({'each once' if mail_ok else 'NOT each once'}); the pass equals a recount: "
        f"{checked['pass_equals_recount']}. Then the open form's POST "
        f"{statistics.median(r['rps'] for r in rounds['form']):.0f}/s against the bare view's "
        f"{statistics.median(r['rps'] for r in rounds['bare']):.0f}/s: ratio {statistics.median(ratios):.3f} "
        f"(rounds {', '.join(f'{r:.3f}' for r in ratios)}). "
        + ("The run is valid." if valid else "THE RUN IS NOT VALID.")
    )
    return valid


if __name__ == "__main__":
    main()

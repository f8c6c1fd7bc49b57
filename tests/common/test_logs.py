"""No token of a resident's link in any log: Django's request logger, the console SMS gateway and
gunicorn's access log (with the configuration the project ships) all write it cut short."""

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from surveys.common.logs import redact
from surveys.common.tokens import new_token
from surveys.invitations.gateways import ConsoleGateway
from tests.factories import InvitationFactory

ROOT = Path(__file__).resolve().parents[2]


def test_redact_cuts_tokens_in_residents_links():
    token = new_token()
    text = f"Not Found: /s/{token}/ and https://kto.example/s/{token}/9/ and /afmelden/{token}/"
    assert redact(text) == (
        f"Not Found: /s/{token[:4]}…/ and https://kto.example/s/{token[:4]}…/9/ and /afmelden/{token[:4]}…/"
    )
    assert redact("GET /o/utrecht/balie/ 200") == "GET /o/utrecht/balie/ 200"


@pytest.mark.django_db
def test_a_wrong_token_is_logged_cut_short(client, caplog):
    token = new_token()
    with caplog.at_level(logging.INFO):
        assert client.get(f"/s/{token}/").status_code == 404
    assert f"/s/{token[:4]}…/" in caplog.text
    assert token not in caplog.text
    assert token[:8] not in caplog.text


@pytest.mark.django_db
def test_a_live_token_in_a_bad_request_is_logged_cut_short(client, invitation, caplog):
    with caplog.at_level(logging.INFO):
        client.get(f"/s/{invitation.token}/9/")
        answer = client.get(f"/s/{invitation.token}/11/")  # out of range: an error page
    assert answer.status_code >= 400
    assert caplog.records, "the request logger wrote nothing: this test would prove nothing"
    assert invitation.token not in caplog.text


def test_the_console_gateway_logs_the_link_cut_short(caplog):
    token = new_token()
    with caplog.at_level(logging.INFO, logger="surveys.invitations.gateways"):
        ConsoleGateway().send_sms("+31612345678", f"Hoe was uw contact? https://kto.example/s/{token}/")
    assert f"/s/{token[:4]}…/" in caplog.text and token not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_holds_no_token_and_no_ip_address(organisation):
    invitation = InvitationFactory(organisation=organisation)
    database = connection.settings_dict
    port = _free_port()
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "kto.settings.test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "KTO_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "kto/gunicorn.conf.py", "kto.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                page = requests.get(f"http://127.0.0.1:{port}/s/{invitation.token}/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        assert page.status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/s/{new_token()}/", timeout=5).status_code == 404
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    access = [line for line in output.splitlines() if '"GET /s/' in line]
    assert len(access) == 2, output
    assert f"/s/{invitation.token[:4]}…/" in access[0]
    assert invitation.token not in output
    assert "127.0.0.1 " not in "\n".join(access) and "127.0.0.1 -" not in output

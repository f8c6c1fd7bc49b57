"""Staff login: failed logins throttled per user name (django-axes, no IP address kept), and a TOTP
second factor where KTO_REQUIRE_TOTP is set, as the production settings do."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.staff import staff_user

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()  # the failure counts live in the cache
    yield
    cache.clear()


@pytest.fixture
def staff(org_a):
    user = staff_user("kcc-login", org_a)
    user.set_password("juist-wachtwoord")
    user.save()
    return user


def test_staff_log_in_with_their_password(client, staff):
    answer = client.post(LOGIN, {"username": "kcc-login", "password": "juist-wachtwoord"})
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert "Dashboard Stichtse Vecht" in client.get("/admin/").content.decode()


def test_five_wrong_passwords_lock_the_user_name_for_a_while(client, staff):
    for _attempt in range(4):
        answer = client.post(LOGIN, {"username": "kcc-login", "password": "fout"})
        assert answer.status_code == 200 and "errornote" in answer.content.decode()
    answer = client.post(LOGIN, {"username": "kcc-login", "password": "fout"})
    assert answer.status_code == 429
    assert "15 minuten geblokkeerd" in answer.content.decode()
    # Locked: even the right password is refused now, with the same clear page.
    answer = client.post(LOGIN, {"username": "kcc-login", "password": "juist-wachtwoord"})
    assert answer.status_code == 429
    # Another user name is not locked.
    other = staff_user("kcc-other", staff.kto_membership.organisation)
    other.set_password("ander-wachtwoord")
    other.save()
    assert client.post(LOGIN, {"username": "kcc-other", "password": "ander-wachtwoord"}).status_code == 302


def test_the_lock_keeps_no_ip_address(client, staff):
    for _attempt in range(5):
        client.post(LOGIN, {"username": "kcc-login", "password": "fout"}, REMOTE_ADDR="203.0.113.7")
    stored = " ".join(str(cache.get(key)) + key for key in cache._cache)  # noqa: SLF001 - locmem's keys
    assert "203.0.113.7" not in stored


@pytest.fixture
def require_totp(settings):
    settings.KTO_REQUIRE_TOTP = True


def test_with_totp_required_the_password_alone_is_not_enough(client, staff, require_totp):
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    answer = client.post(
        LOGIN, {"username": "kcc-login", "password": "juist-wachtwoord", "otp_device": device.persistent_id}
    )
    assert answer.status_code == 200
    assert "otp_token" in answer.content.decode()
    assert client.get("/admin/").status_code == 302  # no session with access


def test_with_totp_required_a_code_from_the_app_logs_in(client, staff, require_totp):
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    answer = client.post(
        LOGIN,
        {
            "username": "kcc-login",
            "password": "juist-wachtwoord",
            "otp_device": device.persistent_id,
            "otp_token": code,
        },
    )
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_with_totp_required_a_session_without_a_code_has_no_access(client, staff, require_totp):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


def test_a_totp_device_is_added_on_the_command_line(staff, capsys):
    call_command("add_totp_device", "kcc-login")
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out and TOTPDevice.objects.get(user=staff).confirmed


def test_the_production_settings_require_totp():
    from tests.kto.test_settings import production_environment, run

    shell = [
        "manage.py",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.KTO_REQUIRE_TOTP)",
    ]
    assert run(shell, production_environment()).stdout.strip() == "True"
    assert run(shell, production_environment(KTO_REQUIRE_TOTP="false")).stdout.strip() == "False"

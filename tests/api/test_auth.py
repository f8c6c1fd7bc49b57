from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from surveys.api.models import ApiKey
from tests.api.conftest import ApiClient

URL = "/api/v1/contacts/"
BODY = {"channel": "balie", "contact_moment": (timezone.now() - timedelta(days=1)).isoformat()}


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Api-Key", "Api-Key nonsense", "Api-Key a b", "Bearer abc", "Api-Key \u00e9"])
def test_requests_without_a_valid_key_get_401_with_www_authenticate(organisation, header):
    client = ApiClient(None)
    answer = client.post(URL, BODY, headers={"HTTP_AUTHORIZATION": header} if header else {})
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Api-Key")
    assert "API-sleutel" in answer.json()["detail"] or "Api-Key" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_revoked_key_gets_401(api, api_key):
    assert api.post(URL, BODY).status_code == 201
    api_key.revoke()
    answer = api.post(URL, BODY)
    assert answer.status_code == 401
    assert "ingetrokken" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_key_is_stored_only_as_a_hash_and_records_its_use(api, api_key):
    assert api_key.plain not in str(ApiKey.objects.values_list().get(pk=api_key.pk))
    assert api_key.plain.startswith(api_key.prefix + ".")
    api.post(URL, BODY)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.django_db
def test_create_api_key_prints_a_working_key_once(organisation, capsys):
    call_command("create_api_key", "stichtse-vecht", "--name", "afsprakensysteem")
    out, err = capsys.readouterr()
    key = out.strip()
    assert "niet opnieuw getoond" in err
    api_key = ApiKey.objects.get()
    assert api_key.name == "afsprakensysteem"
    assert ApiClient(key).post(URL, BODY).status_code == 201


@pytest.mark.django_db
def test_create_api_key_names_an_unknown_organisation(organisation):
    with pytest.raises(CommandError, match="bestaat niet"):
        call_command("create_api_key", "atlantis")


@pytest.mark.django_db
def test_the_admin_shows_a_new_key_once(organisation, admin_client):
    answer = admin_client.post(
        "/admin/surveys/apikey/add/", {"organisation": organisation.pk, "name": "kiosk"}, follow=True
    )
    assert answer.status_code == 200
    shown = [str(m) for m in answer.context["messages"]]
    key_message = next(m for m in shown if "API-sleutel is:" in m)
    key = key_message.split("is: ")[1].split(" ")[0]
    assert ApiClient(key).post(URL, BODY).status_code == 201
    api_key = ApiKey.objects.get()
    assert key not in admin_client.get(f"/admin/surveys/apikey/{api_key.pk}/change/").content.decode()


@pytest.mark.django_db
def test_the_admin_revokes_keys(api, api_key, admin_client):
    admin_client.post("/admin/surveys/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True)
    assert api.post(URL, BODY).status_code == 401

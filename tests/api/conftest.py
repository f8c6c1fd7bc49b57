import json

import pytest
from django.test import Client

from surveys.models import ApiKey
from tests.factories import OrganisationFactory


class ApiClient:
    """Django's test client speaking JSON with an API key."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.key = key

    def _headers(self, headers):
        base = {"HTTP_AUTHORIZATION": f"Api-Key {self.key}"} if self.key else {}
        return {**base, **(headers or {})}

    def post(self, path, data=None, *, raw: bytes | str | None = None, headers=None):
        body = raw if raw is not None else json.dumps(data)
        return self.client.post(path, body, content_type="application/json", **self._headers(headers))

    def get(self, path, headers=None):
        return self.client.get(path, **self._headers(headers))


@pytest.fixture
def api_key(organisation):
    api_key, key = ApiKey.objects.create_key(organisation=organisation, name="telefonie")
    api_key.plain = key
    return api_key


@pytest.fixture
def api(api_key):
    return ApiClient(api_key.plain)


@pytest.fixture
def other_api(db):
    other = OrganisationFactory(name="Utrecht", slug="utrecht")
    _, key = ApiKey.objects.create_key(organisation=other)
    return ApiClient(key)

"""Django's test client for the API: JSON, with an organisation's key."""

import json

from django.test import Client


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

import pytest

from surveys.api.models import ApiKey
from tests.api.client import ApiClient
from tests.factories import OrganisationFactory


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

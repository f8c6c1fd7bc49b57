import pytest
from django.test import Client

from tests.factories import InvitationFactory, OrganisationFactory

pytest_plugins = ["tests.staff", "tests.worker", "tests.logscan"]


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Stichtse Vecht", slug="stichtse-vecht")


@pytest.fixture
def invitation(organisation):
    return InvitationFactory(organisation=organisation)


@pytest.fixture
def client():
    return Client()

import pytest
from django.db import transaction

from surveys.rollups.recount import rollup_full
from tests.demo.test_seed import run_seed


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo (with its report subscriptions), once per module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        run_seed()
        rollup_full()
        yield
        transaction.set_rollback(True)


from tests.responses.conftest import assert_accessible, axe, browser, screenshot  # noqa: E402, F401

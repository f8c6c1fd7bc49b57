"""The browser fixtures of the residents' pages' tests, for the dashboard's browser tests."""

from tests.responses.conftest import assert_accessible, axe, browser, screenshot  # noqa: F401

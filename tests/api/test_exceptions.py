"""Django's exceptions that mean 'bad request' become DRF answers; anything else stays a bug."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError

from surveys.api.exceptions import exception_handler


def test_a_value_the_database_refuses_is_a_400():
    answer = exception_handler(DataError("value too long"), {})
    assert answer.status_code == 400
    assert answer.data["non_field_errors"]


def test_a_django_validation_error_is_a_400_with_its_fields():
    answer = exception_handler(DjangoValidationError({"score": ["Te hoog."]}), {})
    assert answer.status_code == 400
    assert answer.data == {"score": ["Te hoog."]}


def test_a_body_over_djangos_limit_is_a_413():
    answer = exception_handler(RequestDataTooBig("too big"), {})
    assert answer.status_code == 413
    assert "bytes" in answer.data["detail"]


def test_other_exceptions_are_not_hidden():
    assert exception_handler(ZeroDivisionError(), {}) is None

"""Property-based API testing (schemathesis) against the OpenAPI document at /api/schema/:
whatever a client sends, no endpoint answers with a server error — neither for an anonymous
client nor for a bank user with a token."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from registry import roles
from tests.factories import BankFactory, UserFactory


@pytest.fixture
def api_schema(db):
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = schemathesis.pytest.from_fixture("api_schema")

FUZZ = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def bank_token(db):
    user = UserFactory(username="fuzz_bank", bank=BankFactory(code="FZ1"), role=roles.BANK_USER)
    return Token.objects.create(user=user).key


@schema.parametrize()
@FUZZ
def test_no_server_error_for_an_anonymous_client(case):
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_server_error_for_a_bank_user(case, bank_token):
    case.call_and_validate(headers={"Authorization": f"Token {bank_token}"}, checks=[not_a_server_error])

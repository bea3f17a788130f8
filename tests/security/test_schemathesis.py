"""Hostile input at the API (issue #9, item 6): schemathesis generates valid and invalid requests
for every operation of the OpenAPI document drf-spectacular serves at /api/schema/ and sends them
through the WSGI application, once as an anonymous client and once as a bank user with a DRF
token.  No answer may be a server error, and every answer must be one the document declares
(status code, content type, body schema).

Bounded for CI: ``MAX_EXAMPLES`` per operation and identity, derandomized (the same cases every
run), no deadline, no example database.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from fund.models import LoanMode
from fund.services.claims import claim_create
from registry import roles
from tests.banks.factories import IntakeBatchFactory
from tests.factories import BankFactory, LoanFactory, PartnershipFactory, ProgrammeFactory, UserFactory
from tests.fund.claims_factories import claimable_loan

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_schema(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    # Schemathesis calls the WSGI application itself, which, unlike Django's test client, closes the
    # database connection after every request: on PostgreSQL that would end the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def bank_token(db):
    """A bank user with data of its own for the lists to show (loans with and without a guarantor,
    a draft claim, an intake batch) and a token."""
    programme = ProgrammeFactory(code="FZP")
    bank = BankFactory(code="FZB")
    PartnershipFactory(programme=programme, bank=bank)
    user = UserFactory(username="schemathesis_bank", bank=bank, role=roles.BANK_USER)
    LoanFactory(programme=programme, bank=bank)
    claim_create(loan=claimable_loan(programme=programme, bank=bank, mode=LoanMode.BANK_GUARANTOR), actor=user)
    IntakeBatchFactory(programme=programme, bank=bank, uploaded_by=user)
    return Token.objects.create(user=user).key


@schema.parametrize()
@BOUNDED
def test_anonymous_hostile_requests_get_declared_answers_and_no_server_error(case):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_bank_user_hostile_requests_get_declared_answers_and_no_server_error(case, bank_token):
    case.call_and_validate(headers={"Authorization": f"Token {bank_token}"}, checks=CHECKS)

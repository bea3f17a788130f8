"""``record_events`` appends what ``record_event`` called once per event would: the same stored
params (as the database gives them back) and an unbroken hash chain."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from fund.models import LoanStatus
from registry.audit import audit_chain_verify, record_event, record_events
from registry.models import DomainEvent
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

PARAMS = [
    {"loan": 7, "kind": "interest", "amount": Decimal("747.51"), "cap_applied": "", "parameter_set": 1},
    {"amount": Decimal("1.5"), "on": date(2021, 6, 30), "flag": True, "none": None},
    {"status": LoanStatus.SETTLED, "ids": (1, 2), "nested": {"a": [Decimal("2.00")]}},
    {"keys": {1: "integer key"}, "big": 10**16, "id": uuid.UUID(int=5)},
    {"rate": 3.5, "whole": 2.0},
    {},
]


def _stored(events):
    return [(e.event_type, e.object_type, e.object_id, e.params, e.actor_id) for e in events]


def test_many_events_at_once_store_what_one_at_a_time_would():
    actor = UserFactory()
    obj = EnterpriseFactory()
    one_by_one = [record_event(actor=actor, event_type="test.one", obj=obj, **params) for params in PARAMS]
    at_once = record_events(actor=actor, events=[("test.one", obj, params) for params in PARAMS])
    assert _stored(at_once) == _stored(one_by_one)
    fresh = DomainEvent.objects.filter(pk__in=[e.pk for e in at_once]).order_by("id")
    assert _stored(fresh) == _stored(one_by_one)  # as the database gives them back
    assert all(e.actor == actor for e in at_once)
    assert audit_chain_verify().ok


def test_keys_are_stored_as_text_whatever_their_type():
    (event,) = record_events(actor=None, events=[("test.keys", EnterpriseFactory(), {1: "one", "two": 2})])
    assert event.params == {"1": "one", "two": 2}
    assert DomainEvent.objects.get(pk=event.pk).params == event.params


def test_events_without_an_actor():
    events = record_events(actor=None, events=[("test.none", EnterpriseFactory(), {"n": 1})])
    assert events[0].actor_id is None
    assert events[0].actor is None
    assert audit_chain_verify().ok

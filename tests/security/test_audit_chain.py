"""Tamper-evident audit log: every domain event is hash-chained; `verify_audit_chain` names the
first broken event (exit status 1); `prune_audit_events` keeps at least six months and anchors the
chain; on PostgreSQL a trigger makes the table append-only for the application."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from registry import audit
from registry.audit import audit_chain_verify, audit_events_prune, event_digest, record_event
from registry.models import AuditChainAnchor, Bank, DomainEvent
from tests.factories import BankFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return BankFactory()


def _events(bank, n, **params):
    return [record_event(actor=None, event_type="bank.test", obj=bank, n=i, **params) for i in range(n)]


def _events_at(monkeypatch, bank, moment, n):
    with monkeypatch.context() as patch:
        patch.setattr(audit.timezone, "now", lambda: moment)
        return _events(bank, n)


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_output():
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


# --- the chain ----------------------------------------------------------------------------


def test_each_event_is_linked_to_the_one_before(bank):
    first, second, third = _events(bank, 3)
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len(third.hash) == 64


def test_the_hash_covers_the_stored_row(bank):
    actor = UserFactory(username="alice")
    event = record_event(actor=actor, event_type="bank.test", obj=bank, amount=__import__("decimal").Decimal("1.5"),
                         when=timezone.now().date(), ratio=2.0, nested={"k": [1, 2.5]})
    stored = DomainEvent.objects.get(pk=event.pk)
    assert event_digest(occurred_at=stored.occurred_at, actor_id=stored.actor_id, event_type=stored.event_type,
                        object_type=stored.object_type, object_id=stored.object_id, params=stored.params,
                        prev_hash=stored.prev_hash) == stored.hash


def test_an_intact_chain_verifies(bank):
    _events(bank, 5)
    report = audit_chain_verify()
    assert report.ok
    assert report.checked == 5
    assert "审计链完整：共 5 条事件" in _verify_output()


def test_an_empty_log_verifies():
    assert audit_chain_verify().ok


# --- tampering (raw SQL works on SQLite; PostgreSQL's trigger stops it, see below) ---------


@pytest.mark.skipif("connection.vendor == 'postgresql'")
def test_a_modified_event_is_named(bank):
    events = _events(bank, 5)
    _raw("UPDATE registry_domainevent SET params = %s WHERE id = %s", ['{"n": 99}', events[2].pk])

    report = audit_chain_verify()

    assert not report.ok
    assert report.broken_id == events[2].pk
    assert "被修改" in report.reason
    with pytest.raises(CommandError, match=f"事件 #{events[2].pk}") as exc:
        call_command("verify_audit_chain")
    assert exc.value.returncode == 1


@pytest.mark.skipif("connection.vendor == 'postgresql'")
def test_a_deleted_event_is_noticed_at_the_next_one(bank):
    events = _events(bank, 5)
    _raw("DELETE FROM registry_domainevent WHERE id = %s", [events[1].pk])
    report = audit_chain_verify()
    assert report.broken_id == events[2].pk
    assert "前一摘要" in report.reason


@pytest.mark.skipif("connection.vendor == 'postgresql'")
def test_a_rewritten_actor_or_time_is_named(bank):
    events = _events(bank, 3)
    _raw("UPDATE registry_domainevent SET occurred_at = %s WHERE id = %s",
         [timezone.now() - timedelta(days=3), events[0].pk])
    assert audit_chain_verify().broken_id == events[0].pk


def test_an_event_inserted_without_the_chain_is_named(bank):
    _events(bank, 2)
    forged = DomainEvent.objects.create(event_type="bank.test", object_type="registry.bank", object_id="1")
    assert audit_chain_verify().broken_id == forged.pk


# --- retention -----------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 30, 182, 183])
def test_pruning_younger_than_six_months_is_refused(bank, days):
    _events(bank, 1)
    with pytest.raises(CommandError, match="至少保存六个月"):
        call_command("prune_audit_events", "--older-than-days", str(days))
    assert DomainEvent.objects.count() == 1


def test_pruning_removes_only_old_events_anchors_the_chain_and_still_verifies(bank, monkeypatch):
    old = _events_at(monkeypatch, bank, timezone.now() - timedelta(days=400), 3)
    young = _events_at(monkeypatch, bank, timezone.now() - timedelta(days=100), 2)

    call_command("prune_audit_events", "--older-than-days", "184")

    remaining = list(DomainEvent.objects.order_by("id"))
    assert [e.pk for e in remaining[:2]] == [e.pk for e in young]
    anchor = AuditChainAnchor.objects.get()
    assert anchor.prev_hash == old[-1].hash
    assert anchor.first_event_id == young[0].pk
    assert anchor.pruned_count == 3
    assert remaining[-1].event_type == "audit.pruned"
    assert audit_chain_verify().ok
    _events(bank, 1)
    assert audit_chain_verify().ok


def test_pruning_everything_old_leaves_the_anchor_as_the_chain_start(bank, monkeypatch):
    _events_at(monkeypatch, bank, timezone.now() - timedelta(days=400), 2)
    audit_events_prune(older_than_days=200)
    assert DomainEvent.objects.get().event_type == "audit.pruned"
    assert audit_chain_verify().ok


def test_pruning_a_broken_chain_is_refused(bank, monkeypatch):
    _events_at(monkeypatch, bank, timezone.now() - timedelta(days=400), 2)
    DomainEvent.objects.create(event_type="forged", object_type="registry.bank", object_id="1")
    with pytest.raises(CommandError, match="审计链已断开"):
        call_command("prune_audit_events", "--older-than-days", "200")


def test_a_forged_anchor_is_detected(bank):
    _events(bank, 2)
    AuditChainAnchor.objects.create(prev_hash="0" * 64, pruned_count=1, pruned_before=timezone.now())
    report = audit_chain_verify()
    assert not report.ok
    assert "锚点" in report.reason


def test_nothing_to_prune(bank):
    _events(bank, 1)
    assert audit_events_prune(older_than_days=184) is None
    assert not AuditChainAnchor.objects.exists()


def test_the_application_cannot_change_or_delete_an_event(bank):
    event = _events(bank, 1)[0]
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


# --- PostgreSQL: the trigger -----------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_an_event(bank):
    event = _events(bank, 1)[0]
    for sql in ("UPDATE registry_domainevent SET params = '{}' WHERE id = %s",
                "DELETE FROM registry_domainevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="审计事件只能追加"), transaction.atomic():
            _raw(sql, [event.pk])
    assert audit_chain_verify().ok


@pytest.mark.postgres
def test_postgres_refuses_deleting_a_young_event_even_for_the_retention_job(bank):
    event = _events(bank, 1)[0]

    def prune_young():
        with transaction.atomic():
            _raw("SET LOCAL fundpool.allow_audit_prune = 'on'")
            _raw("DELETE FROM registry_domainevent WHERE id = %s", [event.pk])

    with pytest.raises(DatabaseError, match="审计事件只能追加"):
        prune_young()


@pytest.mark.postgres
def test_postgres_refuses_changing_an_anchor(bank, monkeypatch):
    _events_at(monkeypatch, bank, timezone.now() - timedelta(days=400), 2)
    anchor = audit_events_prune(older_than_days=200)
    with pytest.raises(DatabaseError, match="锚点只能追加"), transaction.atomic():
        _raw("UPDATE registry_auditchainanchor SET prev_hash = '' WHERE id = %s", [anchor.pk])


@pytest.mark.postgres
def test_postgres_retention_job_prunes_old_events(bank, monkeypatch):
    _events_at(monkeypatch, bank, timezone.now() - timedelta(days=400), 3)
    _events(bank, 1)
    anchor = audit_events_prune(older_than_days=184)
    assert anchor.pruned_count == 3
    assert audit_chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_concurrent_writers_do_not_fork_the_chain():
    bank = Bank.objects.create(code="CC1", name="并发银行", short_name="并发")
    errors = []

    def write():
        try:
            for i in range(15):
                with transaction.atomic():
                    record_event(actor=None, event_type="bank.test", obj=bank, n=i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = audit_chain_verify()
    assert report.ok, report.reason
    assert report.checked == 45

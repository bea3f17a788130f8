"""Snapshots (R41): built, published, frozen; the public JSON; small cells suppressed."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from fund.models import LoanMode
from registry.errors import BusinessError
from registry.models import Region
from reporting.models import FrozenSnapshotError, Snapshot, SnapshotBreakdown, SnapshotStatus
from reporting.selectors.snapshots import latest_published, public_document, snapshot_rows
from reporting.services import snapshot_build, snapshot_discard, snapshot_publish
from reporting.tasks import build_monthly_snapshots
from tests.factories import BankFactory, EnterpriseFactory, LoanFactory, PartnershipFactory, ProgrammeFactory
from tests.reporting.conftest import AS_OF

pytestmark = pytest.mark.django_db

PUBLIC_KEYS = {"as_of", "applicants", "borrowers", "loans", "principal", "outstanding_principal", "regions_covered",
               "industries_covered", "private_borrowers", "private_share", "avg_rate", "effective_rate", "leverage",
               "pool_balance", "by_region", "by_industry"}


def test_build_freezes_every_dimension_as_strings(small):
    snapshot = snapshot_build(programme=small.programme, as_of=AS_OF)
    rows = snapshot_rows(snapshot)
    assert set(rows) == {"overall", "region", "section", "division", "bank", "mode", "month", "size"}
    overall = rows["overall"][0]["metrics"]
    assert overall["principal"] == "5000000.00"
    assert overall["avg_rate"] == "4.17"
    assert overall["borrowers"] == 3
    assert snapshot.status == SnapshotStatus.DRAFT


def test_public_document_has_the_interface_keys_with_money_and_rates_as_strings(small):
    doc = public_document(snapshot_build(programme=small.programme, as_of=AS_OF, publish=True))
    assert set(doc) >= PUBLIC_KEYS
    assert doc["as_of"] == "2022-03-31"
    assert (doc["principal"], doc["effective_rate"], doc["private_share"]) == ("5000000.00", "3.17", "66.67")
    assert doc["pool_balance"] == "9700000.00"
    assert isinstance(doc["leverage"], str)
    assert doc["leverage"].count(".") == 1
    for cell in doc["by_region"] + doc["by_industry"]:
        assert {"code", "name", "borrowers", "loans", "principal"} <= set(cell)


def test_cells_with_fewer_than_three_enterprises_are_not_published(small):
    doc = public_document(snapshot_build(programme=small.programme, as_of=AS_OF, publish=True))
    # 成都 has 2 borrowers, 乐山 1: both hidden, with no figure that identifies a firm
    assert {c["code"]: c["borrowers"] for c in doc["by_region"]} == {"510100": "<3", "511100": "<3"}
    assert all(c["loans"] is None and c["principal"] is None for c in doc["by_region"])


def test_a_single_small_cell_is_not_derivable_from_the_total():
    # given 成都 4 borrowers, 乐山 3, 泸州 1
    programme = ProgrammeFactory(code="SUP", name="抑制项目")
    bank = BankFactory()
    PartnershipFactory(programme=programme, bank=bank)
    for region, n in (("510100", 4), ("511100", 3), ("510500", 1)):
        for _ in range(n):
            LoanFactory(programme=programme, bank=bank, mode=LoanMode.BANK,
                        enterprise=EnterpriseFactory(region=Region.objects.get(code=region)))
    # when
    doc = public_document(snapshot_build(programme=programme, as_of=date(2022, 5, 28), publish=True))
    # then the total is public, 成都 too, and neither 乐山 nor 泸州 can be read off
    cells = {c["code"]: c for c in doc["by_region"]}
    assert doc["borrowers"] == 8
    assert cells["510100"]["borrowers"] == 4
    assert cells["510100"]["principal"] == "4000000.00"
    assert cells["510500"]["borrowers"] == "<3"
    assert cells["510500"]["principal"] is None
    assert cells["511100"]["borrowers"] == "*"
    assert cells["511100"]["principal"] is None
    published = [c for c in doc["by_region"] if not c["suppressed"]]
    assert len(doc["by_region"]) - len(published) >= 2


def test_published_snapshot_cannot_be_changed_or_deleted(small):
    snapshot = snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)
    snapshot.public_json = "{}"
    with pytest.raises(FrozenSnapshotError):
        snapshot.save()
    with pytest.raises(FrozenSnapshotError):
        Snapshot.objects.filter(pk=snapshot.pk).update(public_json="{}")
    with pytest.raises(FrozenSnapshotError):
        Snapshot.objects.filter(pk=snapshot.pk).delete()
    with pytest.raises(FrozenSnapshotError):
        snapshot.delete()
    breakdown = snapshot.breakdowns.first()
    breakdown.rows = []
    with pytest.raises(FrozenSnapshotError):
        breakdown.save()
    with pytest.raises(FrozenSnapshotError):
        SnapshotBreakdown.objects.filter(snapshot=snapshot).update(rows=[])
    with pytest.raises(FrozenSnapshotError):
        SnapshotBreakdown.objects.filter(snapshot=snapshot).delete()
    with pytest.raises(BusinessError):
        snapshot_publish(snapshot=snapshot)
    with pytest.raises(BusinessError):
        snapshot_discard(snapshot=snapshot)
    assert Snapshot.objects.get(pk=snapshot.pk).public_json != "{}"


def test_draft_can_be_published_once_or_discarded(small):
    draft = snapshot_build(programme=small.programme, as_of=AS_OF)
    published = snapshot_publish(snapshot=draft)
    assert published.status == SnapshotStatus.PUBLISHED
    assert published.published_at is not None
    other = snapshot_build(programme=small.programme, as_of=AS_OF)
    snapshot_discard(snapshot=other)
    assert not Snapshot.objects.filter(pk=other.pk).exists()


def test_a_snapshot_stays_the_same_after_the_data_changes_and_a_new_one_shows_the_change(small):
    # given
    first = snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)
    before_rows, before_json = snapshot_rows(first), first.public_json
    # when the data change (a correction, a late registration)
    loan = small.loans["L2"]
    loan.principal = Decimal("2500000")
    loan.save()
    LoanFactory(programme=small.programme, bank=small.b2, enterprise=small.e4, signed_on=date(2022, 3, 1),
                disbursed_on=date(2022, 3, 2), principal=Decimal("700000"))
    # then the published snapshot is unchanged
    first.refresh_from_db()
    assert snapshot_rows(first) == before_rows
    assert first.public_json == before_json
    assert latest_published(as_of=AS_OF).pk == first.pk
    # and a new one shows the change and becomes the latest
    second = snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)
    doc = public_document(second)
    assert doc["principal"] == "6200000.00"
    assert doc["borrowers"] == 4
    assert json.loads(before_json)["principal"] == "5000000.00"
    assert latest_published(as_of=AS_OF).pk == second.pk


def test_build_snapshot_command_publishes_unless_draft(small):
    call_command("build_snapshot", "--as-of", "2022-03-31", "--programme", "SMALL")
    call_command("build_snapshot", "--as-of", "2022-02-28", "--programme", "SMALL", "--draft")
    statuses = dict(Snapshot.objects.values_list("as_of", "status"))
    assert statuses == {date(2022, 3, 31): "published", date(2022, 2, 28): "draft"}


def test_monthly_task_publishes_the_previous_month_end_once(small):
    result = build_monthly_snapshots(today="2022-04-11")
    assert result["as_of"] == "2022-03-31"
    assert len(result["snapshots"]) == 1
    assert build_monthly_snapshots(today="2022-04-11")["snapshots"] == []
    assert Snapshot.objects.get().status == SnapshotStatus.PUBLISHED


def test_beat_schedules_the_monthly_snapshot(settings):
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "reporting.tasks.build_monthly_snapshots" in entries

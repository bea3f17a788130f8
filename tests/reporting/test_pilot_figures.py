"""The pilot reproduced (pilot-figures.md): the system's own statistics, frozen in the snapshot as of
the cut-off 2022-05-28, show every published figure.  Nothing here is typed into the code under
test; the expected values are the published ones.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from reporting.models import Snapshot, SnapshotStatus
from reporting.selectors import indicators
from reporting.selectors.snapshots import latest_published, public_document
from reporting.services import snapshot_build
from tests.reporting.pilot_loader import load_pilot, restore_reference_data

pytestmark = pytest.mark.django_db
CUTOFF = date(2022, 5, 28)
PUBLISHED = {
    "applicants": 372,
    "borrowers": 204,
    "principal": "1246000000.00",
    "regions_covered": 14,
    "industries_covered": 12,
    "private_borrowers": 191,
    "private_share": "93.63",
    "avg_rate": "4.35",
    "effective_rate": "3.24",
}


def _assert_pilot(doc: dict) -> None:
    assert {k: doc[k] for k in PUBLISHED} == PUBLISHED
    regions = {c["name"] for c in doc["by_region"]}
    assert {"成都市", "乐山市", "泸州市"} <= regions
    industries = {c["code"] for c in doc["by_industry"]}
    assert {"51", "52", "65"} <= industries  # 批发和零售业, 软件和信息技术服务业
    assert industries & {"53", "54", "55", "56", "57", "58", "59", "60"}  # 交通运输


def test_pilot_loaded_directly_gives_the_published_figures_in_the_snapshot():
    # given the pilot's records written straight into the tables (as the intake would leave them)
    programme = load_pilot()

    # when
    snapshot = snapshot_build(programme=programme, as_of=CUTOFF, publish=True, source="test")

    # then
    _assert_pilot(public_document(snapshot))
    live = indicators(programme=programme, as_of=CUTOFF).overall()
    assert live["principal"] == Decimal("1246000000.00")
    assert live["private_share"] == Decimal("93.63")


def test_pilot_private_share_and_rates_hold_for_every_mode_together():
    programme = load_pilot()
    rows = indicators(programme=programme, as_of=CUTOFF).rows("mode")
    assert sum(r["metrics"]["principal"] for r in rows) == Decimal("1246000000.00")
    assert {r["key"] for r in rows} == {"bank", "bank_guarantor"}


@pytest.mark.django_db(transaction=True)
def test_demo_snapshot_shows_the_pilot(settings):
    """Through ``load_demo``: the pilot's loans come in through the banks' intake, and the demo's
    last step publishes the snapshot as of the cut-off."""
    restore_reference_data()
    settings.DEMO_PASSWORD = "Demo-Passw0rd!x"
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    snapshot = latest_published(as_of=CUTOFF)
    assert snapshot is not None
    assert snapshot.as_of == CUTOFF
    assert snapshot.status == SnapshotStatus.PUBLISHED
    doc = public_document(snapshot)
    _assert_pilot(doc)
    # idempotent: a second run publishes nothing new
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Snapshot.objects.filter(as_of=CUTOFF).count() == 1

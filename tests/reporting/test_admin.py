"""Staff pages in the admin: dashboard with filters, charts and drill-down; data quality (R42);
snapshots with build, publish and exports (PDF, Excel)."""

import io
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from banks.models import IntakeBatch, IssueLevel
from registry import roles
from reporting.models import Snapshot, SnapshotStatus
from reporting.selectors.quality import bank_quality
from reporting.services import snapshot_build
from tests.factories import UserFactory
from tests.reporting.conftest import AS_OF

pytestmark = pytest.mark.django_db


def _login(client, role, name=None):
    client.force_login(UserFactory(username=name or f"u_{role}", role=role))
    return client


def test_dashboard_shows_indicators_charts_and_drill_down_links(client, small):
    _login(client, roles.AUDITOR)
    response = client.get(reverse("admin:reporting_dashboard_changelist"), {"as_of": "2022-03-31",
                                                                            "programme": small.programme.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "加权平均合同利率" in body
    assert "4.17%" in body
    assert "5,000,000.00" in body
    drill = re.search(r'href="(/admin/reporting/loandrilldown/\?[^"]*enterprise__region__code__exact=510100[^"]*)"',
                      body).group(1).replace("&amp;", "&")
    listing = client.get(drill)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 3  # L1, L2, L3 (成都, signed by the cut-off)
    for name in ("region", "industry", "month", "bank", "leverage"):
        chart = client.get(reverse("admin:reporting_dashboard_chart", args=[name]), {"as_of": "2022-03-31"})
        assert chart.status_code == 200
        assert chart["Content-Type"].startswith("image/svg+xml")


def test_dashboard_filters_by_region_industry_bank_and_mode(client, small):
    _login(client, roles.HANDLER)
    url = reverse("admin:reporting_dashboard_changelist")
    body = client.get(url, {"as_of": "2022-03-31", "region": "510100", "division": "51", "bank": small.b1.pk,
                            "mode": "bank"}).content.decode()
    assert "1,000,000.00" in body  # only L1
    for dimension_param in ("enterprise__industry__code__exact=51", "bank__id__exact", "mode__exact=bank"):
        assert dimension_param in body


def test_drill_down_by_every_dimension_is_an_allowed_admin_lookup(client, small):
    _login(client, roles.AUDITOR)
    body = client.get(reverse("admin:reporting_dashboard_changelist"), {"as_of": "2022-03-31"}).content.decode()
    links = {link.replace("&amp;", "&") for link in re.findall(r'href="(/admin/reporting/loandrilldown/\?[^"]*)"', body)}
    assert len(links) > 10
    for link in links:
        assert client.get(link).status_code == 200, link


def test_dashboard_is_for_staff_only(client, small):
    assert client.get(reverse("admin:reporting_dashboard_changelist")).status_code == 302  # to the login


def test_data_quality_page(client, small):
    _login(client, roles.AUDITOR)
    response = client.get(reverse("admin:reporting_dataquality_changelist"), {"as_of": "2022-03-31"})
    assert response.status_code == 200
    assert "甲银行" in response.content.decode()


def test_quality_counts_on_time_late_missing_rejected_and_claim_documents(small):
    # L4 reported for March in a batch uploaded on 2022-04-08 (on time); L3 (B1) never reported
    march = IntakeBatch.objects.get(status_reports__loan=small.loans["L4"], status_reports__month=date(2022, 3, 1))
    IntakeBatch.objects.filter(pk=march.pk).update(uploaded_at=datetime(2022, 4, 8, 2, tzinfo=UTC))
    april = IntakeBatch.objects.get(status_reports__loan=small.loans["L4"], status_reports__month=date(2022, 4, 1))
    IntakeBatch.objects.filter(pk=april.pk).update(uploaded_at=datetime(2022, 5, 12, 2, tzinfo=UTC))
    IntakeBatch.objects.create(
        bank=small.b1, programme=small.programme, kind="status", status="rejected",
        issues=[{"sheet": "s", "row": 3, "level": IssueLevel.ERROR, "message": "x"},
                {"sheet": "s", "row": 3, "level": IssueLevel.ERROR, "message": "y"},
                {"sheet": "s", "row": 5, "level": IssueLevel.ERROR, "message": "z"},
                {"sheet": "s", "row": 6, "level": IssueLevel.WARNING, "message": "w"}],
    )
    IntakeBatch.objects.filter(status="rejected").update(uploaded_at=datetime(2022, 4, 20, 2, tzinfo=UTC))
    banks = {b.code: b for b in bank_quality(programme=small.programme, as_of=date(2022, 4, 30))}
    months = {m.month: m for m in banks["B1"].months}
    march_q, april_q = months[date(2022, 3, 1)], months[date(2022, 4, 1)]
    assert (march_q.expected, march_q.reported, march_q.on_time, march_q.missing) == (2, 1, 1, 1)  # L3, L4
    assert (april_q.reported, april_q.on_time, april_q.late) == (1, 0, 1)
    assert april_q.rows_rejected == 2  # rows 3 and 5
    assert months[date(2022, 3, 1)].claims_submitted == 1
    assert months[date(2022, 3, 1)].claims_complete == 0
    assert banks["B1"].leverage is not None


def test_handler_builds_a_draft_and_may_not_publish(client, small):
    _login(client, roles.HANDLER)
    url = reverse("admin:reporting_snapshot_build")
    assert client.get(url).status_code == 200
    client.post(url, {"programme": small.programme.pk, "as_of": "2022-03-31", "publish": "on"})
    assert not Snapshot.objects.exists()
    client.post(url, {"programme": small.programme.pk, "as_of": "2022-03-31"})
    assert Snapshot.objects.get().status == SnapshotStatus.DRAFT


def test_approver_publishes_drafts_with_the_admin_action_after_the_second_factor(client, small, settings):
    draft = snapshot_build(programme=small.programme, as_of=AS_OF)
    _login(client, roles.APPROVER)
    changelist = reverse("admin:reporting_snapshot_changelist")
    assert client.get(changelist).status_code == 200
    # publishing is an approval (permission "approve"): without the second factor it is refused
    client.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == SnapshotStatus.DRAFT
    settings.OTP_REQUIRED_FOR_APPROVALS = False
    client.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == SnapshotStatus.PUBLISHED
    assert client.get(reverse("admin:reporting_snapshot_change", args=[draft.pk])).status_code == 200


def test_snapshot_pdf_has_the_figures_cut_off_and_id_on_every_page(client, small, tmp_path: Path):
    snapshot = snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)
    _login(client, roles.AUDITOR)
    response = client.get(reverse("admin:reporting_snapshot_pdf", args=[snapshot.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "统计截止日 2022-03-31" in page
        assert f"快照编号 {snapshot.pk}" in page
        assert re.search(rf"第\s*{number}\s*页", page)
    assert "5,000,000.00" in text
    assert "4.17%" in text
    assert "3.17%" in text
    assert "甲银行" in text
    assert "成都市" in text


def test_snapshot_workbook_has_one_sheet_per_breakdown_and_is_formula_safe(client, small):
    small.b1.name = "=HYPERLINK(\"http://x\")"
    small.b1.save()
    snapshot = snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)
    _login(client, roles.AUDITOR)
    response = client.get(reverse("admin:reporting_snapshot_xlsx", args=[snapshot.pk]))
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["说明", "总体", "市(州)", "行业门类", "行业大类", "合作银行", "担保模式", "签约月份", "企业规模"]
    banks = [row for row in wb["合作银行"].iter_rows(min_row=2, values_only=True)]
    assert banks[0][1].startswith("'=")
    overall = {row[0]: row[1] for row in wb["总体"].iter_rows(min_row=2, values_only=True)}
    assert float(overall["累计放款(元)"]) == 5_000_000
    assert overall["获贷企业(户)"] == 3

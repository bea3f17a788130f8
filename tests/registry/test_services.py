"""Registry services: size class derived from the admin-editable thresholds (R7)."""

from decimal import Decimal

import pytest

from registry.models import DomainEvent, SizeClass, SmeThreshold
from registry.services import enterprise_save, enterprise_size_class
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_small_software_firm_is_classified_small_r7():
    enterprise = EnterpriseFactory.build(industry_code="I6510", employees=50, revenue_10k=Decimal("500"))
    assert enterprise_size_class(enterprise=enterprise) == SizeClass.SMALL


def test_missing_revenue_means_unknown_never_micro_r7():
    enterprise = EnterpriseFactory.build(industry_code="F5123", employees=3, revenue_10k=None)
    assert enterprise_size_class(enterprise=enterprise) == SizeClass.UNKNOWN


def test_staff_edit_of_thresholds_changes_the_class():
    enterprise = EnterpriseFactory.build(industry_code="F5123", employees=12, revenue_10k=Decimal("1200"))
    assert enterprise_size_class(enterprise=enterprise) == SizeClass.SMALL
    SmeThreshold.objects.filter(group="批发业").update(small_min_1=Decimal("13"))
    assert enterprise_size_class(enterprise=enterprise) == SizeClass.MICRO


def test_enterprise_save_canonicalises_industry_and_records_event():
    enterprise = EnterpriseFactory.build(industry_code="5123", size_class=SizeClass.UNKNOWN)
    enterprise_save(enterprise=enterprise, actor=UserFactory())
    enterprise.refresh_from_db()
    assert (enterprise.industry_code, enterprise.industry_id, enterprise.size_class) == ("F5123", "51", "small")
    assert DomainEvent.objects.filter(event_type="enterprise.created", object_id=str(enterprise.pk)).exists()


def test_admin_refuses_a_bad_credit_code_in_chinese(client):
    client.force_login(UserFactory(username="adm", role="管理员"))
    response = client.post("/admin/registry/enterprise/add/", {
        "credit_code": "91350100M000100Y44", "name": "测试", "region": "510100", "industry_code": "F5123",
        "is_private": "on",
    })
    assert response.status_code == 200
    assert "校验位" in response.content.decode()

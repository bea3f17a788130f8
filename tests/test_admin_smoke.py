"""Every registered model's admin list, add and change pages answer 200 for a 管理员."""

import pytest
from django.contrib import admin
from django.urls import reverse

from registry import roles
from tests.factories import LoanFactory, PartnershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="smoke_admin", role=roles.ADMINISTRATOR))
    return client


@pytest.fixture
def some_data():
    LoanFactory()
    PartnershipFactory()


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(("model", "model_admin"), _registered(), ids=lambda v: getattr(v, "__name__", ""))
def test_admin_pages_answer_200(admin_client, some_data, model, model_admin):
    info = (model._meta.app_label, model._meta.model_name)
    assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    add = admin_client.get(reverse("admin:{}_{}_add".format(*info)))
    assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403)
    obj = model._default_manager.first()
    if obj is not None:
        change = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert change.status_code == 200

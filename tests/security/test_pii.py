"""Personal information (PIPL): the legal representative's ID number and phone are stored only
encrypted (key outside the database), found through a keyed hash, shown masked; the plain
text is revealed only to holders of registry.view_pii, and every reveal is audited."""

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group, Permission
from django.db import connection

from registry import roles
from registry.models import DomainEvent, Enterprise
from registry.security import pii
from registry.security.selectors import enterprises_by_legal_rep_id
from registry.security.services import enterprise_pii_reveal
from tests.factories import EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def enterprise(pii_keys):
    enterprise = EnterpriseFactory(legal_rep_name="张三")
    enterprise.set_legal_rep_id(ID_NUMBER)
    enterprise.set_legal_rep_phone(PHONE)
    enterprise.save()
    return enterprise


# --- masking and normalising --------------------------------------------------------------


def test_masks():
    assert pii.mask_id(ID_NUMBER) == "110***********002X"
    assert pii.mask_phone(PHONE) == "138****5678"
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_id("") == ""


def test_id_numbers_are_validated_and_normalised():
    assert pii.normalize_id_number(" 11010519491231002x ") == ID_NUMBER
    with pytest.raises(pii.PIIError, match="校验位"):
        pii.normalize_id_number("110105194912310021")
    assert pii.normalize_phone("138 1234 5678") == PHONE
    with pytest.raises(pii.PIIError):
        pii.normalize_phone("12345")


# --- storage ------------------------------------------------------------------------------


def test_the_database_holds_only_ciphertext_and_the_keyed_hash(enterprise):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_enterprise WHERE id = %s", [enterprise.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
        cursor.execute("SELECT * FROM registry_historicalenterprise")
        history = " ".join(str(v) for r in cursor.fetchall() for v in r)
    for text in (row, history):
        assert ID_NUMBER not in text
        assert PHONE not in text
    assert enterprise.legal_rep_id_encrypted.startswith("gAAAA")  # a Fernet token
    assert pii.decrypt(enterprise.legal_rep_id_encrypted) == ID_NUMBER


def test_the_model_shows_masked_values(enterprise):
    fresh = Enterprise.objects.get(pk=enterprise.pk)
    assert fresh.legal_rep_id_masked == "110***********002X"
    assert fresh.legal_rep_phone_masked == "138****5678"


def test_an_enterprise_is_found_by_the_id_number_without_decrypting(enterprise):
    EnterpriseFactory()
    assert list(enterprises_by_legal_rep_id("11010519491231002x")) == [enterprise]
    assert enterprise.legal_rep_id_hash == pii.id_lookup_hash(ID_NUMBER)
    assert len(enterprise.legal_rep_id_hash) == 64


def test_the_keys_are_generated_once_in_the_key_folder_with_private_permissions(enterprise, pii_keys):
    key_file = pii_keys / pii.ENCRYPTION_KEY_FILE
    hash_file = pii_keys / pii.HASH_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert hash_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text() != hash_file.read_text()
    before = key_file.read_text()
    pii.encrypt("x")
    assert key_file.read_text() == before


def test_keys_from_the_environment_win_and_rotation_keeps_old_data_readable(settings, enterprise):
    old_key = (settings.PII_KEY_DIR / pii.ENCRYPTION_KEY_FILE).read_text().strip()
    new_key = Fernet.generate_key().decode()
    settings.PII_ENCRYPTION_KEY = f"{new_key},{old_key}"

    assert pii.decrypt(enterprise.legal_rep_id_encrypted) == ID_NUMBER  # old data, old key
    token = pii.encrypt("x")
    assert Fernet(new_key.encode()).decrypt(token.encode()) == b"x"  # new data, new key

    settings.PII_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert Enterprise.objects.get(pk=enterprise.pk).legal_rep_id_masked == pii.UNREADABLE


def test_a_different_hash_key_gives_a_different_lookup_hash(settings, pii_keys):
    first = pii.id_lookup_hash(ID_NUMBER)
    settings.PII_HASH_KEY = "another-key-from-the-environment"
    assert pii.id_lookup_hash(ID_NUMBER) != first


# --- reveal ---------------------------------------------------------------------------------


def test_a_reveal_needs_the_permission(enterprise):
    handler = UserFactory(username="handler", role=roles.HANDLER)
    with pytest.raises(Exception, match="无权"):
        enterprise_pii_reveal(enterprise=enterprise, actor=handler)
    assert not DomainEvent.objects.filter(event_type="enterprise.pii_revealed").exists()


def test_a_reveal_returns_the_plain_text_and_writes_an_audit_event_without_it(enterprise):
    officer = UserFactory(username="officer", role=roles.HANDLER)
    officer.user_permissions.add(Permission.objects.get(codename="view_pii"))
    officer = type(officer).objects.get(pk=officer.pk)

    values = enterprise_pii_reveal(enterprise=enterprise, actor=officer)

    assert values["legal_rep_id"] == ID_NUMBER
    assert values["legal_rep_phone"] == PHONE
    event = DomainEvent.objects.get(event_type="enterprise.pii_revealed")
    assert event.actor == officer
    assert event.params == {"fields": ["legal_rep_id", "legal_rep_phone"]}
    assert ID_NUMBER not in str(event.params)


def test_only_the_administrator_role_holds_view_pii_by_default():
    holders = {g.name for g in Group.objects.filter(permissions__codename="view_pii")}
    assert holders == {roles.ADMINISTRATOR}


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, pii_keys):
    client.force_login(UserFactory(username="boss", role=roles.ADMINISTRATOR))
    return client


def _form(enterprise, **changes):
    data = {
        "credit_code": enterprise.credit_code, "name": enterprise.name, "region": enterprise.region_id,
        "industry_code": enterprise.industry_code, "employees": enterprise.employees,
        "revenue_10k": enterprise.revenue_10k, "assets_10k": enterprise.assets_10k, "is_private": "on",
        "legal_rep_name": "张三", "legal_rep_id": "", "legal_rep_phone": "",
    }
    data.update(changes)
    return data


def test_the_admin_stores_the_id_number_encrypted_and_never_renders_it(admin_client):
    enterprise = EnterpriseFactory()
    url = f"/admin/registry/enterprise/{enterprise.pk}/change/"

    response = admin_client.post(url, _form(enterprise, legal_rep_id=ID_NUMBER, legal_rep_phone=PHONE))

    assert response.status_code == 302, response.content.decode()[:2000]
    enterprise.refresh_from_db()
    assert pii.decrypt(enterprise.legal_rep_id_encrypted) == ID_NUMBER
    page = admin_client.get(url).content.decode()
    assert ID_NUMBER not in page
    assert PHONE not in page
    assert "110***********002X" in page
    assert "138****5678" in page


def test_the_admin_keeps_the_stored_values_when_the_inputs_are_left_empty(admin_client, enterprise):
    url = f"/admin/registry/enterprise/{enterprise.pk}/change/"
    assert admin_client.post(url, _form(enterprise, name="改名后的公司")).status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.name == "改名后的公司"
    assert pii.decrypt(enterprise.legal_rep_id_encrypted) == ID_NUMBER


def test_the_admin_refuses_an_invalid_id_number_in_chinese(admin_client, enterprise):
    url = f"/admin/registry/enterprise/{enterprise.pk}/change/"
    response = admin_client.post(url, _form(enterprise, legal_rep_id="110105194912310021"))
    assert response.status_code == 200
    assert "校验位不正确" in response.content.decode()


def test_the_admin_reveal_page_shows_the_plain_text_after_a_post_and_audits_it(admin_client, enterprise):
    url = f"/admin/registry/enterprise/{enterprise.pk}/reveal-pii/"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert ID_NUMBER not in confirm.content.decode()

    response = admin_client.post(url)

    assert ID_NUMBER in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert DomainEvent.objects.filter(event_type="enterprise.pii_revealed", object_id=str(enterprise.pk)).count() == 1


def test_staff_without_view_pii_get_403_on_the_reveal_page(client, enterprise):
    client.force_login(UserFactory(username="auditor", role=roles.AUDITOR))
    assert client.post(f"/admin/registry/enterprise/{enterprise.pk}/reveal-pii/").status_code == 403
    assert not DomainEvent.objects.filter(event_type="enterprise.pii_revealed").exists()

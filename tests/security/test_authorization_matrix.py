"""Authorization matrix (issue #9, item 1): every URL pattern, every role, own and foreign objects.

tests/security/matrix.py holds the expected answers (``EXPECTED``) and how each pattern is called
(``CALLS``).  A pattern without an entry fails ``test_every_url_pattern_is_in_the_matrix``.  One test
per role walks every pattern in a small world of two sides (A and B: a bank, a guarantor, an
enterprise each, with loans, claims in every state, documents, subsidies, applications, batches)
plus a payment batch and a published snapshot.  Each request runs in a savepoint that is rolled
back, so a POST that is let in changes nothing for the next one.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.template.base import Template
from django.test import RequestFactory, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from banks.intake import fields as F
from fund.models import CooperationState, LoanMode, Partnership
from fund.services import partnership_set_state
from fund.services.claims import claim_approve, claim_create, claim_start_review
from fund.services.reconciliation import ledger_reconcile
from fund.services.recoveries import recovery_record
from registry import roles
from registry.errors import BusinessError
from registry.models import AuditChainAnchor
from registry.security.testing import confirmed_device, verify_second_factor
from reporting.services import snapshot_build
from subsidies import services as subsidy_services
from subsidies.models import DocumentType, SubsidyKind, SubsidyStatus
from tests.banks.portal_factories import registration_rows, report, stored_batch, xlsx
from tests.factories import (
    BankFactory,
    EnterpriseFactory,
    GuarantorFactory,
    GuarantorPartnershipFactory,
    LoanFactory,
    PartnershipFactory,
    UserFactory,
)
from tests.fund import claims_factories as cf
from tests.subsidies.factories import (
    OPEN_WINDOW,
    EnterpriseUserFactory,
    GuaranteedLoanFactory,
    ProgrammeFactory,
    SettledLoanFactory,
)

from . import matrix as m

pytestmark = pytest.mark.django_db

ROLE_GROUPS = {m.HANDLER: roles.HANDLER, m.APPROVER: roles.APPROVER, m.ADMINISTRATOR: roles.ADMINISTRATOR,
               m.AUDITOR: roles.AUDITOR}


# --- the world -----------------------------------------------------------------------------------


def _side(side: str, programme, team, users: dict[str, Any]) -> dict[str, Any]:
    """One organisation side: bank, guarantor, enterprise and everything they own."""
    reviewer, approver, _payer = team
    bank = BankFactory(code=f"MX{side}", name=f"矩阵银行{side}", short_name=f"矩{side}")
    PartnershipFactory(programme=programme, bank=bank)
    guarantor = GuarantorFactory(code=f"MG{side}", name=f"矩阵担保{side}", short_name=f"担{side}")
    GuarantorPartnershipFactory(programme=programme, guarantor=guarantor)
    filer, guarantor_staff = cf.bank_user(bank), cf.guarantor_user(guarantor)

    # the enterprise: a settled guaranteed loan with both subsidies, a document, a loan application
    enterprise = EnterpriseFactory(name=f"矩阵企业{side}")
    owner = EnterpriseUserFactory(enterprise=enterprise)
    settled = GuaranteedLoanFactory(programme=programme, bank=bank, guarantor=guarantor, enterprise=enterprise)
    computed = {s.kind: s for s in subsidy_services.subsidy_compute_for_settlements(loans=[settled])}
    subsidy = subsidy_services.subsidy_apply(subsidy=computed[SubsidyKind.INTEREST], actor=owner, payee_name="企业",
                                             payee_bank="银行", payee_account="6222000011112222")
    document = subsidy_services.subsidy_document_add(subsidy=computed[SubsidyKind.GUARANTEE_FEE], actor=owner,
                                                     doc_type=DocumentType.GUARANTEE_CONTRACT, upload=m.pdf())
    application = subsidy_services.loan_application_submit(
        enterprise=enterprise, programme=programme, bank=bank, amount=Decimal("500000"), purpose="流动资金周转",
        actor=owner)

    # claims on loans the side's guarantor guarantees, one in every state the API acts on
    serial = iter(range(1, 10))

    def loan():
        return cf.claimable_loan(programme=programme, bank=bank, mode=LoanMode.BANK_GUARANTOR, guarantor=guarantor,
                                 guarantee_contract_no=f"DB-{side}-{next(serial)}")

    paid = cf.paid_claim(loan(), team=team)
    recovery = recovery_record(claim=paid, gross_amount=Decimal("1000.00"), costs=Decimal("0"),
                               recovered_on=timezone.localdate() - timedelta(days=1), evidence=m.pdf(),
                               actor=guarantor_staff, name="凭证.pdf")
    draft_loan = loan()
    cf.record_guarantor_share(draft_loan)
    draft = claim_create(loan=draft_loan, actor=filer)
    cf.attach_all_documents(draft, filer)
    submitted = cf.submitted_claim(loan(), user=filer)
    review = claim_start_review(claim=cf.submitted_claim(loan(), user=filer), actor=reviewer)
    approved = claim_approve(claim=claim_start_review(claim=cf.submitted_claim(loan(), user=filer), actor=reviewer),
                             actor=approver)

    batch = stored_batch(bank=bank, programme=programme,
                         content=xlsx.rows_workbook(kind=F.REGISTRATION, rows=registration_rows(2)))
    report(paid.loan, date(2021, 6, 1), batch=batch)

    users[f"bank_{side.lower()}"] = UserFactory(username=f"matrix_bank_{side}", bank=bank, role=roles.BANK_USER)
    users[f"enterprise_{side.lower()}"] = owner
    if side == "A":
        users[m.GUARANTOR] = UserFactory(username="matrix_guarantor", guarantor=guarantor, role=roles.GUARANTOR_USER)
    return {
        "bank_code": bank.code, "subsidy_loan": settled.pk, "subsidy": subsidy.pk, "subsidy_document": document.pk,
        "application": application.pk, "guarantor_payment": paid.loan.guarantor_payments.get().pk,
        "claim_paid": paid.pk, "claim_paid_document": paid.documents.first().pk, "recovery": recovery.pk,
        "claim_draft": draft.pk, "claim_draft_document": draft.documents.first().pk, "claim_draft_loan": draft_loan.pk,
        "claim_submitted": submitted.pk, "claim_review": review.pk, "claim_approved": approved.pk,
        "batch": batch.pk, "loan": paid.loan_id, "enterprise": enterprise.pk,
    }


def _payment_batch(programme, bank, team):
    reviewer, approver, _payer = team
    enterprise = EnterpriseFactory(name="矩阵企业C")
    owner = EnterpriseUserFactory(enterprise=enterprise)
    loan = SettledLoanFactory(programme=programme, bank=bank, enterprise=enterprise)
    (subsidy,) = subsidy_services.subsidy_compute_for_settlements(loans=[loan])
    subsidy_services.subsidy_apply(subsidy=subsidy, actor=owner, payee_name="企业", payee_bank="银行",
                                   payee_account="6222000011112222")
    subsidy_services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=reviewer)
    subsidy_services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)
    subsidy_services.other_subsidy_record(loan=loan, source="市级贴息", amount=Decimal("100.00"), actor=reviewer)
    return subsidy_services.payment_batch_create(programme=programme, actor=reviewer, subsidies=[subsidy])


def _bookkeeping(programme, builder) -> None:
    """Rows for the remaining admin pages: activation code, cooperation change, reconciliation,
    token, second-factor device, lockout records, audit-chain anchor."""
    bank_c = BankFactory(code="MXC", name="矩阵银行C")
    partnership = PartnershipFactory(programme=programme, bank=bank_c)
    loan = LoanFactory(programme=programme, bank=bank_c)
    subsidy_services.activation_code_issue(enterprise=loan.enterprise, actor=cf.bank_user(bank_c))
    partnership_set_state(partnership=Partnership.objects.get(pk=partnership.pk), state=CooperationState.SUSPENDED,
                          reason="矩阵测试", actor=builder)
    ledger_reconcile(triggered_by="matrix")
    Token.objects.create(user=builder)
    now = timezone.now()
    common = {"username": "someone", "ip_address": "192.0.2.1", "user_agent": "t", "http_accept": "*/*",
              "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common)
    AuditChainAnchor.objects.create(prev_hash="0" * 64, pruned_count=0, pruned_before=now)


def build_world() -> SimpleNamespace:
    programme = ProgrammeFactory(code="MTX", **OPEN_WINDOW)
    team = cf.bureau_team()
    builder = cf.staff(roles.ADMINISTRATOR, "matrix_builder")
    users: dict[str, Any] = {r: UserFactory(username=f"matrix_{r}", role=group) for r, group in ROLE_GROUPS.items()}
    ids = {side: _side(side, programme, team, users) for side in "AB"}
    payment_batch = _payment_batch(programme, BankFactory(code="MXA"), team)
    snapshot = snapshot_build(programme=programme, as_of=timezone.localdate(), publish=True, actor=builder)
    _bookkeeping(programme, builder)
    shared = {
        "programme": programme.pk, "programme_code": programme.code, "snapshot": snapshot.pk,
        "payment_batch": payment_batch.pk, "totp_device": confirmed_device(builder).pk,
        "loan_content_type": ContentType.objects.get(app_label="fund", model="loan").pk,
        "bank_user": users[m.BANK_A].pk,
    }
    for side in ids:
        ids[side] |= shared
    request = RequestFactory().get("/admin/")
    request.user = users[m.ADMINISTRATOR]
    return _with_history(SimpleNamespace(users=users, ids=ids, admin_objects=_admin_objects(),
                                         superuser_request=request))


def _admin_objects() -> dict[str, Any]:
    objects = {}
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the matrix world has no {model._meta.label} for its admin pages: add one"
        objects[model._meta.label_lower] = obj
    return objects


def _with_history(world: SimpleNamespace) -> SimpleNamespace:
    world.history_ids = {}
    for model in admin.site._registry:
        if f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history" not in m.ADMIN_MODEL_ROUTES:
            continue
        obj = world.admin_objects[model._meta.label_lower]
        if not obj.history.exists():
            obj.save()
        world.history_ids[model._meta.label_lower] = obj.history.order_by("-history_id").first().history_id
    return world


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at the end; each test
    runs in a savepoint of it (pytest-django's ``db``)."""
    media = tmp_path_factory.mktemp("matrix-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast):
        outer = transaction.atomic()
        outer._from_testcase = True  # the services' durable blocks open inside it, as in a TestCase
        outer.__enter__()
        try:
            world = build_world()
            world.media = media
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db, settings, monkeypatch):
    settings.MEDIA_ROOT = module_world.media
    settings.OTP_REQUIRED_FOR_APPROVALS = True
    # Speed only, no access decision depends on these: sessions in the cache rather than the database,
    # templates rendered without the test runner's per-template context copies, no admin sidebar
    # (the same app list the index page renders).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    monkeypatch.setattr(Template, "_render", lambda template, context: template.nodelist.render(context))
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)
    cache.clear()
    yield module_world
    cache.clear()


# --- asking ---------------------------------------------------------------------------------------


def _expected(value: str, key: str, user: Any, world: SimpleNamespace) -> str:
    """Resolve ``perm:…``: the role's own permission (and whether the ModelAdmin offers the page)."""
    if not value.startswith("perm:"):
        return value
    kind = value.removeprefix("perm:")
    if kind == "module":
        return m.ALLOW if user.has_module_perms(m.CALLS[key].kwargs["app_label"]) else m.DENY
    model, _page = m.ADMIN_MODEL_ROUTES[key]
    model_admin, opts, su = admin.site._registry[model], model._meta, world.superuser_request

    def has(action: str) -> bool:
        return user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    allowed = {
        "view": (has("view") or has("change")) and model_admin.has_view_or_change_permission(su),
        "add": has("add") and model_admin.has_add_permission(su),
        "delete": has("delete") and model_admin.has_delete_permission(su),
    }[kind]
    return m.ALLOW if allowed else m.DENY


class Asker:
    """Requests as one role; every request in a savepoint that is rolled back."""

    def __init__(self, client, user, monkeypatch):
        self.client, self.user, self.codes = client, user, []
        original = BusinessError.__init__

        def spy(error, message, *, code="invalid", **kwargs):
            self.codes.append(code)
            original(error, message, code=code, **kwargs)

        monkeypatch.setattr(BusinessError, "__init__", spy)
        self.login()

    def login(self) -> None:
        if self.user is not None:
            self.client.force_login(self.user)

    def ask(self, call: m.Call, url: str, world: SimpleNamespace, side: str) -> str:
        body = call.body(world, side) if call.body else {}
        self.codes.clear()
        savepoint = transaction.atomic()
        savepoint._from_testcase = True  # the views' durable blocks may open inside it, as in a TestCase
        try:
            with savepoint:
                if call.method == "GET":
                    response = self.client.get(url)
                elif call.json:
                    response = self.client.post(url, body, content_type="application/json")
                else:
                    response = self.client.post(url, body)
                transaction.set_rollback(True)
        except Exception as exc:  # a view that raised is reported like a 500
            return f"error ({type(exc).__name__}: {exc})"
        finally:
            if call.logs_out:
                self.login()
        answer = m.outcome(response, self.codes)
        return f"error ({response.status_code})" if answer == "error" else answer


def _check(asker: Asker, role: str, key: str, route: m.Route, world, expected: str, *,
           otp_pass: bool = False) -> list[str]:
    call = m.call_for(key)
    side = m.SIDE.get(role, "A")
    problems = []
    want = _expected(expected, key, asker.user, world)
    url = m.build_url(route, call, world, side)
    got = asker.ask(call, url, world, side)
    if call.logs_out and got == "login":
        got = m.ALLOW  # a logout page sends everybody to a login page
    if call.second_factor and not otp_pass:
        if got not in m.REFUSED:
            problems.append(f"{key}: {call.method} {url} → {got}, expected a refusal without the second factor")
        return problems
    if got not in m.ACCEPTED[want]:
        problems.append(f"{key}: {call.method} {url} → {got}, expected {want}")
    if want == m.ALLOW and role in m.SIDE and m.is_owned(call):
        foreign = m.OTHER_SIDE[side]
        url = m.build_url(route, call, world, foreign)
        got = asker.ask(call, url, world, foreign)
        if got not in m.ACCEPTED[m.DENY]:
            problems.append(f"{key}: {call.method} {url} (side {foreign}'s object) → {got}, expected deny")
    return problems


# --- tests ----------------------------------------------------------------------------------------


def test_every_url_pattern_is_in_the_matrix():
    keys = {route.key for route in m.all_routes()}
    missing = sorted(keys - m.EXPECTED.keys())
    assert not missing, "URL patterns missing from tests/security/matrix.py EXPECTED:\n" + "\n".join(missing)
    stale = sorted(m.EXPECTED.keys() - keys)
    assert not stale, "EXPECTED entries without a URL pattern:\n" + "\n".join(stale)
    incomplete = sorted(key for key, row in m.EXPECTED.items() if set(row) != set(m.ROLES))
    assert not incomplete, f"entries that do not name every role: {incomplete}"


@pytest.mark.parametrize("role", m.ROLES)
def test_each_role_gets_the_answer_the_matrix_expects_from_every_url(role, world, client, monkeypatch):
    user = world.users.get(role)
    asker = Asker(client, user, monkeypatch)
    routes = [route for route in m.all_routes() if route.key in m.EXPECTED]
    problems = []
    for route in routes:
        problems += _check(asker, role, route.key, route, world, m.EXPECTED[route.key][role])
    if user is not None:  # the same approvals and payments once the session passed the second factor
        verify_second_factor(client, user)
        for route in routes:
            if m.call_for(route.key).second_factor:
                problems += _check(asker, role, route.key, route, world, m.EXPECTED[route.key][role], otp_pass=True)
    assert not problems, f"{role}: {len(problems)} answers differ from the matrix:\n" + "\n".join(problems)

"""The authorization matrix (issue #9, item 1): who gets what answer from every URL pattern.

``EXPECTED`` maps every URL pattern (its name; an unnamed pattern by its route) to the answer each
role must get:

- ``allow``: let in (any status but 401/403/404/405/5xx, no redirect to a login or verify page,
  no "forbidden" refusal from a service).  For an organisation's user (enterprise, bank,
  guarantor) on a URL that names an object, "allow" means *its own* object; the same URL with
  the other organisation's object must then be refused (403/404).
- ``deny``: refused: 401, 403 or 404, or a service refused with code ``forbidden``.
- ``login``: asked to sign in: a redirect to a login page, or 401/403 from the API.
- ``perm:view`` / ``perm:add`` / ``perm:delete`` / ``perm:module`` (admin pages only): the role's
  own Django permissions decide (view or change, add, delete, any in the app), as far as the
  ModelAdmin offers the page at all (a read-only admin refuses "add" to everybody).

``CALLS`` says how to request a pattern (method, URL arguments taken from the world, body).
``second_factor`` calls are approvals and payments: refused to everybody without a verified
second factor, then answered as the matrix says once the session is OTP-verified.

The admin's per-model pages (changelist, add, change, history, delete, the object redirect and
django-simple-history's version page) are generated for every registered model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from fund.models.claims import DocumentKind

# --- roles ---------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
ENTERPRISE_A, ENTERPRISE_B = "enterprise_a", "enterprise_b"
BANK_A, BANK_B = "bank_a", "bank_b"
GUARANTOR = "guarantor"
HANDLER, APPROVER, ADMINISTRATOR, AUDITOR = "handler", "approver", "administrator", "auditor"

ENTERPRISES = (ENTERPRISE_A, ENTERPRISE_B)
BANKS = (BANK_A, BANK_B)
STAFF = (HANDLER, APPROVER, ADMINISTRATOR, AUDITOR)
ROLES = (ANONYMOUS, *ENTERPRISES, *BANKS, GUARANTOR, *STAFF)
# The side of the world an organisation's user belongs to; its "foreign" objects are the other side's.
SIDE = {ENTERPRISE_A: "A", ENTERPRISE_B: "B", BANK_A: "A", BANK_B: "B", GUARANTOR: "A"}
OTHER_SIDE = {"A": "B", "B": "A"}

ALLOW, DENY, LOGIN = "allow", "deny", "login"


def everyone() -> dict[str, str]:
    return dict.fromkeys(ROLES, ALLOW)


def signed_in() -> dict[str, str]:
    """Any signed-in user; anonymous visitors are sent to log in."""
    return everyone() | {ANONYMOUS: LOGIN}


def only(*groups: str | tuple[str, ...]) -> dict[str, str]:
    """The roles named (or groups of roles) are let in; anonymous must log in; the rest are refused."""
    allowed = {r for g in groups for r in ((g,) if isinstance(g, str) else g)}
    return {r: ALLOW if r in allowed else (LOGIN if r == ANONYMOUS else DENY) for r in ROLES}


def admin_site(*allowed_staff: str) -> dict[str, str]:
    """An admin page: non-staff go to the admin login; the staff roles named are let in."""
    return {r: (ALLOW if r in allowed_staff else DENY) if r in STAFF else LOGIN for r in ROLES}


def admin_by_permission(kind: str) -> dict[str, str]:
    return {r: f"perm:{kind}" if r in STAFF else LOGIN for r in ROLES}


EXPECTED: dict[str, dict[str, str]] = {
    # public
    "home": everyone(),
    "stats:page": everyone(),
    "stats:chart": everyone(),
    "public-api:stats": everyone(),
    "healthz": everyone(),
    "api-schema": everyone(),
    "api-docs": everyone(),
    # accounts (django.contrib.auth) and the second factor
    "login": everyone(),
    "logout": everyone(),
    "password_change": signed_in(),
    "password_change_done": signed_in(),
    "password_reset": everyone(),
    "password_reset_done": everyone(),
    "password_reset_confirm": everyone(),
    "password_reset_complete": everyone(),
    "security:otp-setup": signed_in(),
    "security:otp-verify": signed_in(),
    # enterprise portal
    "enterprise:home": only(ENTERPRISES),
    "enterprise:login": everyone(),
    "enterprise:logout": everyone(),
    "enterprise:activate": everyone(),
    "enterprise:lookup": everyone(),
    "enterprise:loan": only(ENTERPRISES),
    "enterprise:subsidy": only(ENTERPRISES),
    "enterprise:document": only(ENTERPRISES, STAFF),  # bureau staff who may view subsidies
    "enterprise:applications": only(ENTERPRISES),
    # bank portal: compensation claims (bureau staff read; they decide in the admin)
    "claims-portal:list": only(BANKS, GUARANTOR, STAFF),
    "claims-portal:new": only(BANKS),
    "claims-portal:guarantor_payments": only(GUARANTOR),
    "claims-portal:guarantor_voucher": only(BANKS, GUARANTOR, STAFF),  # the loan's bank, the guarantor
    "claims-portal:detail": only(BANKS, GUARANTOR, STAFF),
    "claims-portal:update": only(BANKS),
    "claims-portal:upload": only(BANKS),
    "claims-portal:document": only(BANKS, STAFF),  # R25: the filing bank and bureau staff, not the guarantor
    "claims-portal:document_delete": only(BANKS),
    "claims-portal:submit": only(BANKS),
    "claims-portal:notice": only(BANKS, GUARANTOR, STAFF),
    "claims-portal:recovery_new": only(BANKS, GUARANTOR),  # R30: the bank or its guarantor reports
    "claims-portal:recovery_evidence": only(BANKS, GUARANTOR, STAFF),  # recorded by the guarantor
    "claims-portal:close_pursuit": only(BANKS),
    # bank portal (staff choose a bank with ?bank=)
    "bank:home": only(BANKS, GUARANTOR, STAFF),
    "bank:template": only(BANKS, GUARANTOR, STAFF),
    "bank:upload_new": only(BANKS, HANDLER, ADMINISTRATOR),  # banks.add_intakebatch
    "bank:batch_list": only(BANKS, STAFF),
    "bank:batch_detail": only(BANKS, STAFF),
    "bank:batch_progress": only(BANKS, STAFF),
    "bank:batch_annotated": only(BANKS, STAFF),
    "bank:loan_list": only(BANKS, GUARANTOR, STAFF),
    "bank:loan_detail": only(BANKS, GUARANTOR, STAFF),  # the guarantor: the loans it guarantees
    "bank:loan_activation_code": only(BANKS, HANDLER, ADMINISTRATOR),  # subsidies.add_activationcode
    "bank:exceptions": only(BANKS, GUARANTOR, STAFF),
    "bank:applications": only(BANKS, STAFF),
    "bank:application_decide": only(BANKS),
    # REST API
    "fund:leverage": only(BANKS, STAFF),
    "bank-api:upload": only(BANKS, HANDLER, ADMINISTRATOR),
    "bank-api:registrations": only(BANKS, HANDLER, ADMINISTRATOR),
    "bank-api:status-reports": only(BANKS, HANDLER, ADMINISTRATOR),
    "bank-api:batches": only(BANKS, GUARANTOR, STAFF),  # the guarantor: an empty list
    "bank-api:batch": only(BANKS, STAFF),
    "bank-api:loans": only(BANKS, GUARANTOR, STAFF),
    "bank-api:loan": only(BANKS, GUARANTOR, STAFF),
    "bank-api:exceptions": only(BANKS, GUARANTOR, STAFF),
    "claims-api:claim-list": signed_in(),  # an enterprise user gets an empty list
    "claims-api:claim-detail": only(BANKS, GUARANTOR, STAFF),
    "claims-api:claim-guarantor-payments": only(GUARANTOR),
    "claims-api:claim-documents": only(BANKS),
    "claims-api:claim-document": only(BANKS, STAFF),
    "claims-api:claim-submit": only(BANKS),
    "claims-api:claim-start-review": only(HANDLER, ADMINISTRATOR),
    "claims-api:claim-return": only(HANDLER, APPROVER, ADMINISTRATOR),
    "claims-api:claim-reject": only(HANDLER, APPROVER, ADMINISTRATOR),
    "claims-api:claim-approve": only(APPROVER, ADMINISTRATOR),  # second factor
    "claims-api:claim-pay": only(APPROVER, ADMINISTRATOR),  # second factor
    "claims-api:claim-notice": only(BANKS, GUARANTOR, STAFF),
    "claims-api:claim-recoveries": only(BANKS, GUARANTOR),
    "reports-api:snapshot-list": only(STAFF),
    "reports-api:snapshot-detail": only(STAFF),
    # the admin site's own pages
    "admin:index": admin_site(*STAFF),
    "admin:login": everyone(),
    "admin:logout": everyone(),  # non-staff are sent to the admin index (and on to its login)
    "admin:password_change": admin_site(*STAFF),
    "admin:password_change_done": admin_site(*STAFF),
    "admin:jsi18n": admin_site(*STAFF),
    "admin:app_list": admin_by_permission("module"),
    "admin:autocomplete": admin_site(),  # no ModelAdmin declares autocomplete_fields: 403 for everyone
    "admin:view_on_site": admin_site(),  # no model has get_absolute_url: 404 for everyone
    "admin/(?P<url>.*)$": admin_site(),  # the catch-all: 404 for staff
    # custom admin pages
    "admin:auth_user_password_change": admin_site(ADMINISTRATOR),
    "admin:otp_totp_totpdevice_config": admin_site(),  # OTP_ADMIN_HIDE_SENSITIVE_DATA: nobody sees a secret
    "admin:otp_totp_totpdevice_qrcode": admin_site(),
    "admin:registry_enterprise_reveal_pii": admin_site(ADMINISTRATOR),  # registry.view_pii
    "admin:fund_reconciliationrun_run": admin_site(*STAFF),  # a read-only check, the auditor's too
    "admin:fund_programme_dashboard": admin_site(*STAFF),
    "admin:fund_programme_contribution": admin_site(HANDLER, ADMINISTRATOR),  # fund.handle_contribution
    "admin:subsidies_subsidy_reject": admin_site(HANDLER, APPROVER, ADMINISTRATOR),
    "admin:subsidies_paymentbatch_export": admin_site(*STAFF),
    "admin:subsidies_paymentbatch_pay": admin_site(APPROVER, ADMINISTRATOR),  # second factor
    "admin:reporting_dashboard_chart": admin_site(*STAFF),
    "admin:reporting_snapshot_build": admin_site(HANDLER, ADMINISTRATOR),  # reporting.add_snapshot
    "admin:reporting_snapshot_pdf": admin_site(*STAFF),
    "admin:reporting_snapshot_xlsx": admin_site(*STAFF),
}

# Generic pages of every registered ModelAdmin; the role's permissions decide.
ADMIN_MODEL_PAGES = {"changelist": "view", "add": "add", "change": "view", "history": "view", "delete": "delete",
                     "simple_history": "view"}


def admin_model_keys(model: type, model_admin: admin.ModelAdmin) -> dict[str, tuple[type, str]]:
    app, name = model._meta.app_label, model._meta.model_name
    keys = {f"admin:{app}_{name}_{page}": (model, page) for page in ("changelist", "add", "change", "history", "delete")}
    keys[f"admin/{app}/{name}/<path:object_id>/"] = (model, "redirect")
    if isinstance(model_admin, SimpleHistoryAdmin):
        keys[f"admin:{app}_{name}_simple_history"] = (model, "simple_history")
    return keys


ADMIN_MODEL_ROUTES: dict[str, tuple[type, str]] = {}
for _model, _model_admin in admin.site._registry.items():
    ADMIN_MODEL_ROUTES |= admin_model_keys(_model, _model_admin)
    EXPECTED |= {key: admin_by_permission(ADMIN_MODEL_PAGES[page]) if page in ADMIN_MODEL_PAGES
                 # ``<id>/`` only redirects to ``<id>/change/``, which decides
                 else admin_site(*STAFF) for key, (_m, page) in admin_model_keys(_model, _model_admin).items()}

# --- how to call each pattern --------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """An object of the world, on the side of the role asking (``world.ids[side][name]``);
    ``owned=False`` for values that are not an organisation's own (a programme, a snapshot)."""

    name: str
    owned: bool = True


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


Body = Callable[[Any, str], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    method: str = "GET"
    kwargs: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Body | None = None
    json: bool = False
    path: Callable[[Any, str], str] | None = None  # for unnamed patterns
    owned_body: bool = False  # the body names the organisation's object (a bank code, a loan)
    second_factor: bool = False  # approval / payment: refused without a verified second factor
    logs_out: bool = False


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


BANK_QUERY = {"bank": Ref("bank_code", owned=False)}  # bureau staff pick a bank; others ignore it
RECORDS = Call("POST", json=True, owned_body=True,
               body=lambda w, s: {"records": [{"contract_no": "HT-MATRIX"}], "bank": w.ids[s]["bank_code"]})

CALLS: dict[str, Call] = {
    "stats:chart": Call(kwargs={"snapshot_id": Ref("snapshot", owned=False), "name": "region"}),
    "public-api:stats": Call(query={"as_of": "2099-12-31"}),
    "logout": Call("POST", logs_out=True),
    "password_reset_confirm": Call(kwargs={"uidb64": "MQ", "token": "abc-123"}),
    "enterprise:logout": Call("POST", logs_out=True),
    "enterprise:loan": Call(kwargs={"pk": Ref("subsidy_loan")}),
    "enterprise:subsidy": Call(kwargs={"pk": Ref("subsidy")}),
    "enterprise:document": Call(kwargs={"pk": Ref("subsidy_document")}),
    "claims-portal:guarantor_voucher": Call(kwargs={"payment_pk": Ref("guarantor_payment")}),
    "claims-portal:detail": Call(kwargs={"pk": Ref("claim_paid")}),
    "claims-portal:update": Call("POST", kwargs={"pk": Ref("claim_draft")},
                                 body=lambda w, s: {"unpaid_principal": "1000.00"}),
    "claims-portal:upload": Call("POST", kwargs={"pk": Ref("claim_draft")},
                                 body=lambda w, s: {"kind": DocumentKind.COLLECTION_RECORD.value, "file": pdf()}),
    "claims-portal:document": Call(kwargs={"pk": Ref("claim_paid"), "document_pk": Ref("claim_paid_document")}),
    "claims-portal:document_delete": Call("POST", kwargs={"pk": Ref("claim_draft"),
                                                          "document_pk": Ref("claim_draft_document")}),
    "claims-portal:submit": Call("POST", kwargs={"pk": Ref("claim_draft")}),
    "claims-portal:notice": Call(kwargs={"pk": Ref("claim_paid")}),
    "claims-portal:recovery_new": Call("POST", kwargs={"pk": Ref("claim_paid")}, body=lambda w, s: {
        "recovered_on": _yesterday(), "gross_amount": "100.00", "costs": "0", "evidence": pdf("凭证.pdf")}),
    "claims-portal:recovery_evidence": Call(kwargs={"pk": Ref("claim_paid"), "recovery_pk": Ref("recovery")}),
    "claims-portal:close_pursuit": Call("POST", kwargs={"pk": Ref("claim_paid")},
                                        body=lambda w, s: {"closed_on": _yesterday(), "reason": "核销"}),
    "bank:home": Call(query=BANK_QUERY),
    "bank:template": Call(kwargs={"kind": "registration"}, query=BANK_QUERY),
    "bank:upload_new": Call(query=BANK_QUERY),
    "bank:batch_list": Call(query=BANK_QUERY),
    "bank:batch_detail": Call(kwargs={"pk": Ref("batch")}, query=BANK_QUERY),
    "bank:batch_progress": Call(kwargs={"pk": Ref("batch")}, query=BANK_QUERY),
    "bank:batch_annotated": Call(kwargs={"pk": Ref("batch")}, query=BANK_QUERY),
    "bank:loan_list": Call(query=BANK_QUERY),
    "bank:loan_detail": Call(kwargs={"pk": Ref("loan")}, query=BANK_QUERY),
    "bank:loan_activation_code": Call("POST", kwargs={"pk": Ref("loan")}, query=BANK_QUERY),
    "bank:exceptions": Call(query=BANK_QUERY),
    "bank:applications": Call(query=BANK_QUERY),
    "bank:application_decide": Call("POST", kwargs={"pk": Ref("application")}, query=BANK_QUERY,
                                    body=lambda w, s: {"decision": "accept"}),
    "fund:leverage": Call(query={"programme": Ref("programme_code", owned=False)}),
    "bank-api:upload": Call("POST", owned_body=True, body=lambda w, s: {
        "kind": "registration", "bank": w.ids[s]["bank_code"],
        "file": SimpleUploadedFile("备案.csv", "借款合同编号\nHT-MATRIX\n".encode(), content_type="text/csv")}),
    "bank-api:registrations": RECORDS,
    "bank-api:status-reports": RECORDS,
    "bank-api:batch": Call(kwargs={"pk": Ref("batch")}),
    "bank-api:loan": Call(kwargs={"pk": Ref("loan")}),
    "bank-api:exceptions": Call(query={"month": "2021-06"}),
    "claims-api:claim-detail": Call(kwargs={"pk": Ref("claim_paid")}),
    "claims-api:claim-guarantor-payments": Call("POST", owned_body=True, body=lambda w, s: {
        "loan": w.ids[s]["claim_draft_loan"], "amount": "100.00", "paid_on": _yesterday(), "voucher": pdf()}),
    "claims-api:claim-documents": Call("POST", kwargs={"pk": Ref("claim_draft")},
                                       body=lambda w, s: {"kind": DocumentKind.COLLECTION_RECORD.value, "file": pdf()}),
    "claims-api:claim-document": Call(kwargs={"pk": Ref("claim_paid"), "document_pk": Ref("claim_paid_document")}),
    "claims-api:claim-submit": Call("POST", kwargs={"pk": Ref("claim_draft")}),
    "claims-api:claim-start-review": Call("POST", kwargs={"pk": Ref("claim_submitted")}),
    "claims-api:claim-return": Call("POST", kwargs={"pk": Ref("claim_submitted")},
                                    body=lambda w, s: {"comment": "请补正"}),
    "claims-api:claim-reject": Call("POST", kwargs={"pk": Ref("claim_review")}, body=lambda w, s: {"comment": "不符合"}),
    "claims-api:claim-approve": Call("POST", kwargs={"pk": Ref("claim_review")}, second_factor=True),
    "claims-api:claim-pay": Call("POST", kwargs={"pk": Ref("claim_approved")}, second_factor=True),
    "claims-api:claim-notice": Call(kwargs={"pk": Ref("claim_paid")}),
    "claims-api:claim-recoveries": Call("POST", kwargs={"pk": Ref("claim_paid")}, body=lambda w, s: {
        "recovered_on": _yesterday(), "gross_amount": "100.00", "evidence": pdf("凭证.pdf")}),
    "reports-api:snapshot-detail": Call(kwargs={"pk": Ref("snapshot", owned=False)}),
    "admin:logout": Call("POST", logs_out=True),
    "admin:app_list": Call(kwargs={"app_label": "fund"}),
    "admin:view_on_site": Call(kwargs={"content_type_id": Ref("loan_content_type"), "object_id": Ref("loan")}),
    "admin/(?P<url>.*)$": Call(path=lambda w, s: "/admin/no-such-page/"),
    "admin:auth_user_password_change": Call(kwargs={"id": Ref("bank_user")}),
    "admin:otp_totp_totpdevice_config": Call(kwargs={"pk": Ref("totp_device")}),
    "admin:otp_totp_totpdevice_qrcode": Call(kwargs={"pk": Ref("totp_device")}),
    "admin:registry_enterprise_reveal_pii": Call("POST", kwargs={"object_id": Ref("enterprise")}),
    "admin:fund_reconciliationrun_run": Call("POST"),
    "admin:fund_programme_dashboard": Call(kwargs={"pk": Ref("programme")}),
    "admin:fund_programme_contribution": Call("POST", kwargs={"pk": Ref("programme")}),
    "admin:subsidies_subsidy_reject": Call("POST", kwargs={"pk": Ref("subsidy")},
                                           body=lambda w, s: {"reason": "材料不符"}),
    "admin:subsidies_paymentbatch_export": Call(kwargs={"pk": Ref("payment_batch")}),
    "admin:subsidies_paymentbatch_pay": Call("POST", kwargs={"pk": Ref("payment_batch")}, second_factor=True,
                                             body=lambda w, s: {"voucher_reference": "GK-1", "paid_on": _yesterday()}),
    "admin:reporting_dashboard_chart": Call(kwargs={"name": "region"}),
    "admin:reporting_snapshot_build": Call("POST"),
    "admin:reporting_snapshot_pdf": Call(kwargs={"pk": Ref("snapshot", owned=False)}),
    "admin:reporting_snapshot_xlsx": Call(kwargs={"pk": Ref("snapshot", owned=False)}),
}


def admin_model_call(model: type, page: str) -> Call:
    label = model._meta.label_lower
    if page in ("changelist", "add"):
        return Call()
    if page == "redirect":
        app, name = label.split(".")
        return Call(path=lambda w, s: f"/admin/{app}/{name}/{w.admin_objects[label].pk}/")
    if page == "simple_history":
        return Call(path=lambda w, s: reverse(f"admin:{label.replace('.', '_')}_simple_history",
                                              args=[w.admin_objects[label].pk, w.history_ids[label]]))
    return Call(path=lambda w, s: reverse(f"admin:{label.replace('.', '_')}_{page}", args=[w.admin_objects[label].pk]))


def call_for(key: str) -> Call:
    if key in ADMIN_MODEL_ROUTES:
        return admin_model_call(*ADMIN_MODEL_ROUTES[key])
    return CALLS.get(key, Call())


def is_owned(call: Call) -> bool:
    """The call names an organisation's object: its owner is let in, the other organisation refused."""
    return call.owned_body or any(isinstance(v, Ref) and v.owned for v in (*call.kwargs.values(), *call.query.values()))


def _resolve(value: Any, world: Any, side: str) -> Any:
    return world.ids[side][value.name] if isinstance(value, Ref) else value


def build_url(route: Route, call: Call, world: Any, side: str) -> str:
    if call.path is not None:
        url = call.path(world, side)
    else:
        url = reverse(route.name, kwargs={k: _resolve(v, world, side) for k, v in call.kwargs.items()})
    query = {k: _resolve(v, world, side) for k, v in call.query.items()}
    return f"{url}?{urlencode(query)}" if query else url


# --- the URL patterns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the name (namespaced) or, for an unnamed pattern, the route
    route: str
    name: str | None


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield Route(key=name or route, route=route, name=name)


FORMAT_SUFFIX = re.compile(r"\\\.\(\?P<format>[^)]*\)")


def all_routes() -> list[Route]:
    """Every URL pattern once; DRF's ``.<format>`` variants are grouped with their pattern."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        key = route.key if route.name else FORMAT_SUFFIX.sub("", route.key)
        seen.setdefault(key, route)
    return list(seen.values())


# --- answers -------------------------------------------------------------------------------------

LOGIN_PATHS = ("/accounts/login/", "/enterprise/login/", "/admin/login/")
VERIFY_PATH = "/security/otp/verify/"
REFUSAL_CODES = {"forbidden", "separation_of_duties", "maker_checker"}


def outcome(response: Any, refusal_codes: list[str]) -> str:
    """``allow`` / ``deny`` / ``login`` / ``verify`` / ``unauthenticated`` / ``error`` / ``method``."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status == 405:
        return "method"
    if status == 401:
        return "unauthenticated"
    if status in (403, 404) or REFUSAL_CODES.intersection(refusal_codes):
        return "deny"
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response["Location"]).path
        if location.startswith(LOGIN_PATHS):
            return "login"
        if location.startswith(VERIFY_PATH):
            return "verify"
    return "allow"


ACCEPTED = {
    ALLOW: {"allow"},
    DENY: {"deny", "unauthenticated"},
    LOGIN: {"login", "unauthenticated", "deny"},
}
REFUSED = {"deny", "login", "verify", "unauthenticated"}  # without the second factor



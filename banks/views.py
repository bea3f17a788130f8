"""The bank portal (/bank/): server-rendered pages for partner banks, guarantors and bureau staff.

Views translate the request, call one selector or service and render.  Who sees what is decided
once per request by :func:`banks.portal_selectors.portal_scope`; every object is looked up through
the scope's querysets (id AND bank), so another bank's batch or loan is a 404.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from banks import portal_selectors as sel
from banks import xlsx
from banks.forms import ApplicationDecisionForm, LoanFilterForm, MonthForm, UploadForm
from banks.intake import fields as F
from banks.models import BatchKind
from registry.errors import BusinessError

logger = logging.getLogger(__name__)
SESSION_BANK = "bank_portal_bank"
PAGE_SIZE = 25


# --------------------------------------------------------------------------- scope and guards


def _scope(request: HttpRequest) -> sel.PortalScope:
    """The request's portal scope; bureau staff's ``?bank=`` choice is remembered in the session."""
    ref = request.GET.get("bank")
    user = request.user
    if ref is None and getattr(user, "is_bureau", False):
        ref = request.session.get(SESSION_BANK, "")
    scope = sel.portal_scope(user=user, bank_ref=ref or "")
    if scope.is_bureau and "bank" in request.GET:
        if scope.bank is not None:
            request.session[SESSION_BANK] = scope.bank.code
        else:
            request.session.pop(SESSION_BANK, None)
    return scope


def portal(*, nav: str, needs_bank: bool = True, uploads: bool = False) -> Callable:
    """Login required; resolve the scope; bureau staff without a chosen bank get the bank picker;
    ``uploads`` pages are for users who may upload for the scope's bank (never guarantors)."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            scope = _scope(request)
            request.portal_nav = nav
            if needs_bank and scope.needs_bank_choice:
                return render(request, "bank/choose_bank.html", {"scope": scope, "nav": nav})
            if uploads and not scope.can_upload:
                raise PermissionDenied("只有合作银行的用户可以上传报送文件")
            return view(request, scope, *args, **kwargs)

        return wrapper

    return decorate


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _optional(module: str, name: str) -> Callable | None:
    """A function another engineer provides (subsidies); None until it exists."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(getattr(exc, "message", "") or exc)


# --------------------------------------------------------------------------- home


@portal(nav="home")
def home(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    loans = scope.loans()
    due_month = sel.previous_month()
    months = sel.reported_months(loans=loans, limit=1)
    latest = months[0] if months else None
    context = {
        "scope": scope,
        "nav": "home",
        "totals": sel.loan_totals(loans=loans),
        "due": sel.month_status(loans=loans, month=due_month),
        "latest": sel.month_status(loans=loans, month=latest) if latest and latest != due_month else None,
        "recent_batches": sel.recent_batches(batches=scope.batches()),
        "batch_counts": sel.batch_counts(batches=scope.batches()),
        "open_applications": _open_application_count(scope),
    }
    return render(request, "bank/home.html", context)


# --------------------------------------------------------------------------- templates


@portal(nav="upload", needs_bank=False)
@require_GET
def template_download(request: HttpRequest, scope: sel.PortalScope, kind: str) -> HttpResponse:
    if kind not in F.KINDS:
        raise Http404("没有这种模板")
    content = xlsx.template_workbook(kind=kind, bank=scope.bank)
    response = HttpResponse(content, content_type=xlsx.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(xlsx.template_filename(kind), f"{kind}.xlsx")
    return response


def _attachment(filename: str, ascii_name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


# --------------------------------------------------------------------------- uploads and batches


@portal(nav="upload", uploads=True)
@require_http_methods(["GET", "POST"])
def upload_new(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, scope=scope,
                      initial={"kind": request.GET.get("kind") or BatchKind.REGISTRATION})
    if request.method == "POST" and form.is_valid():
        try:
            batch = _submit_upload(request, scope, form)
        except (BusinessError, ValidationError) as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("bank:batch_detail", pk=batch.pk)
    return render(request, "bank/upload.html", {"scope": scope, "nav": "upload", "form": form})


def _submit_upload(request: HttpRequest, scope: sel.PortalScope, form: UploadForm):
    """Hand the file to the intake's upload service (stores it, queues banks.tasks.process_batch)."""
    from banks.services import intake_upload

    data = form.cleaned_data
    upload = data["file"]
    return intake_upload(
        bank=scope.bank,
        kind=data["kind"],
        fileobj=upload,
        filename=upload.name,
        uploaded_by=request.user,
        is_correction=bool(data.get("is_correction")),
        override_reason=data.get("override_reason", ""),
    )


@portal(nav="batches")
@require_GET
def batch_list(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    if scope.is_guarantor:
        raise PermissionDenied("担保机构不报送文件")
    batches = scope.batches()
    kind = request.GET.get("kind") or ""
    if kind in BatchKind.values:
        batches = batches.filter(kind=kind)
    batches = batches.defer("issues", "summary").order_by("-uploaded_at")
    context = {"scope": scope, "nav": "batches", "page": _page(request, batches),
               "kind": kind, "kinds": BatchKind.choices}
    return render(request, "bank/batch_list.html", context)


@portal(nav="batches")
@require_GET
def batch_detail(request: HttpRequest, scope: sel.PortalScope, pk) -> HttpResponse:
    batch = get_object_or_404(scope.batches(), pk=pk)
    context = {
        "scope": scope,
        "nav": "batches",
        "batch": batch,
        "progress": sel.progress_payload(batch),
        "groups": sel.group_issues(batch.issues or []),
        "kind_title": xlsx.KIND_TITLES.get(batch.kind, ""),
    }
    response = render(request, "bank/batch_detail.html", context)
    add_never_cache_headers(response)
    return response


@portal(nav="batches")
@require_GET
def batch_progress(request: HttpRequest, scope: sel.PortalScope, pk) -> JsonResponse:
    batch = get_object_or_404(scope.batches(), pk=pk)
    response = JsonResponse(sel.progress_payload(batch))
    add_never_cache_headers(response)
    return response


@portal(nav="batches")
@require_GET
def batch_annotated(request: HttpRequest, scope: sel.PortalScope, pk) -> HttpResponse:
    batch = get_object_or_404(scope.batches(), pk=pk)
    if not batch.is_finished:
        messages.info(request, "文件仍在处理中，处理完成后即可下载标注文件")
        return redirect("bank:batch_detail", pk=batch.pk)
    content = xlsx.annotated_workbook(batch=batch)
    stem = (batch.filename.rsplit(".", 1)[0] if batch.filename else xlsx.KIND_TITLES.get(batch.kind, "batch"))
    response = HttpResponse(content, content_type=xlsx.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(f"{stem}_校验结果.xlsx", f"annotated-{batch.pk}.xlsx")
    add_never_cache_headers(response)
    return response


# --------------------------------------------------------------------------- loans


@portal(nav="loans")
@require_GET
def loan_list(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    form = LoanFilterForm(request.GET or None)
    loans = sel.loan_list(loans=scope.loans(), **form.filters())
    context = {"scope": scope, "nav": "loans", "form": form, "page": _page(request, loans),
               "totals": sel.loan_totals(loans=loans)}
    return render(request, "bank/loan_list.html", context)


@portal(nav="loans")
@require_GET
def loan_detail(request: HttpRequest, scope: sel.PortalScope, pk: int) -> HttpResponse:
    loan = get_object_or_404(scope.loans(), pk=pk)
    return render(request, "bank/loan_detail.html", _loan_context(scope, loan))


def _loan_context(scope: sel.PortalScope, loan) -> dict:
    return {
        "scope": scope,
        "nav": "loans",
        "loan": loan,
        "reports": sel.loan_reports(loan=loan),
        "can_issue_code": scope.can_issue_codes,
    }


@portal(nav="loans")
@require_POST
def loan_activation_code(request: HttpRequest, scope: sel.PortalScope, pk: int) -> HttpResponse:
    """Issue a one-time activation code for the borrower's enterprise-portal account; shown once."""
    loan = get_object_or_404(scope.loans(), pk=pk)
    if not scope.can_issue_codes:
        raise PermissionDenied("只有贷款银行可以为借款企业签发激活码")
    issue = _optional("subsidies.services", "activation_code_issue")
    if issue is None:
        messages.error(request, "企业账户激活码功能尚未开通")
        return redirect("bank:loan_detail", pk=loan.pk)
    try:
        code = issue(enterprise=loan.enterprise, actor=request.user)
    except (BusinessError, ValidationError) as exc:
        messages.error(request, _error_text(exc))
        return redirect("bank:loan_detail", pk=loan.pk)
    context = _loan_context(scope, loan) | {"activation_code": code}
    response = render(request, "bank/activation_code.html", context)
    add_never_cache_headers(response)
    return response


# --------------------------------------------------------------------------- the month's exceptions


@portal(nav="exceptions")
@require_GET
def exceptions(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    form = MonthForm(request.GET or None)
    month = form.cleaned_data.get("month") if form.is_valid() else None
    month = month or sel.previous_month()
    loans = scope.loans()
    missing = sel.month_exceptions(loans=loans, month=month)
    context = {
        "scope": scope,
        "nav": "exceptions",
        "form": form,
        "month": month,
        "status": sel.month_status(loans=loans, month=month),
        "page": _page(request, missing, 50),
        "months": sel.reported_months(loans=loans, limit=12),
    }
    return render(request, "bank/exceptions.html", context)


# --------------------------------------------------------------------------- loan applications (意向申请)


def _applications(scope: sel.PortalScope):
    if scope.bank is None:
        return None
    select = _optional("subsidies.selectors", "loan_applications_for_bank")
    if select is not None:
        return select(bank=scope.bank)
    from subsidies.models import LoanApplication

    return LoanApplication.objects.filter(bank=scope.bank).select_related("enterprise", "enterprise__region")


def _open_application_count(scope: sel.PortalScope) -> int | None:
    apps = _applications(scope)
    if apps is None:
        return None
    from subsidies.models import LoanApplicationStatus

    return apps.filter(status=LoanApplicationStatus.SUBMITTED).count()


@portal(nav="applications")
@require_GET
def applications(request: HttpRequest, scope: sel.PortalScope) -> HttpResponse:
    if scope.bank is None:
        raise PermissionDenied("意向申请由合作银行答复")
    from subsidies.models import LoanApplicationStatus

    apps = _applications(scope)
    status = request.GET.get("status", LoanApplicationStatus.SUBMITTED)
    if status in LoanApplicationStatus.values:
        apps = apps.filter(status=status)
    context = {
        "scope": scope, "nav": "applications", "page": _page(request, apps.order_by("-created_at", "-id")),
        "status": status, "statuses": LoanApplicationStatus.choices,
        "can_decide": scope.can_decide_applications
        and _optional("subsidies.services", "loan_application_decide") is not None,
    }
    return render(request, "bank/applications.html", context)


@portal(nav="applications")
@require_POST
def application_decide(request: HttpRequest, scope: sel.PortalScope, pk: int) -> HttpResponse:
    if not scope.can_decide_applications:
        raise PermissionDenied("只有意向银行可以答复申请")
    application = get_object_or_404(_applications(scope), pk=pk)
    form = ApplicationDecisionForm(request.POST)
    decide = _optional("subsidies.services", "loan_application_decide")
    if decide is None:
        messages.error(request, "意向申请答复功能尚未开通")
    elif not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            decide(application=application, accept=form.accept, reason=form.cleaned_data["reason"].strip(),
                   actor=request.user)
        except (BusinessError, ValidationError) as exc:
            messages.error(request, _error_text(exc))
        else:
            verb = "受理" if form.accept else "不受理"
            messages.success(request, f"已答复 {application.enterprise.name} 的意向申请：{verb}")
    return redirect(reverse("bank:applications") + f"?status={request.POST.get('return_status', '')}")

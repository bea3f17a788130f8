"""The enterprise portal (/enterprise/): thin views over the subsidies services and selectors."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fund.models import LoanStatus
from fund.selectors import compensated_loan_ids
from registry.errors import BusinessError

from . import rules, selectors, services, throttle
from .forms import ActivationForm, EnterpriseLoginForm, LoanApplicationForm, LookupForm, SubsidyApplyForm
from .models import SubsidyKind, SubsidyStatus
from .services.compute import loan_ineligibility
from .services.workflow import REQUIRED_DOCUMENTS

LOOKUP_LIMIT_PER_IP = 10
LOOKUP_LIMIT_PER_CODE = 5
ACTIVATE_LIMIT_PER_IP = 10
ACTIVATE_LIMIT_PER_CODE = 5
LOGIN_LIMIT_PER_IP = 20
TOO_MANY = "查询过于频繁，请稍后再试（每分钟次数有限）。"


def enterprise_required(view):
    """Logged in as a user bound to an enterprise (others get a plain 403 page)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("enterprise:login"))
        if not request.user.enterprise_id:
            return render(request, "enterprise/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


class EnterpriseLoginView(auth_views.LoginView):
    template_name = "enterprise/login.html"
    authentication_form = EnterpriseLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return reverse("enterprise:home")

    def post(self, request, *args, **kwargs):
        if not throttle.hit("enterprise-login", throttle.client_ip(request), limit=LOGIN_LIMIT_PER_IP):
            return render(request, "enterprise/too_many.html", {"message": "登录尝试过于频繁，请一分钟后再试。"}, status=429)
        return super().post(request, *args, **kwargs)


logout_view = auth_views.LogoutView.as_view(next_page=reverse_lazy("enterprise:login"))


def _subsidy_rows(subsidies, today):
    return [{"subsidy": s, "next_step": selectors.subsidy_next_step(subsidy=s, on=today),
             "reason": selectors.subsidy_stage_reason(subsidy=s)} for s in subsidies]


@enterprise_required
def home(request: HttpRequest) -> HttpResponse:
    enterprise = request.user.enterprise
    today = timezone.localdate()
    loans = list(selectors.loans_for_enterprise(enterprise=enterprise))
    compensated = compensated_loan_ids(loan_ids=[loan.pk for loan in loans])
    rows = []
    for loan in loans:
        subsidies = sorted(loan.subsidies.all(), key=lambda s: s.kind != SubsidyKind.INTEREST)
        for s in subsidies:
            s.loan = loan
        why = "" if subsidies else rules.ineligibility_reason(
            settled=loan.status == LoanStatus.SETTLED and loan.settled_on is not None,
            ever_overdue=loan.ever_overdue, compensated=loan.pk in compensated,
        )
        rows.append({"loan": loan, "subsidies": _subsidy_rows(subsidies, today), "why_none": why})
    return render(request, "enterprise/home.html", {
        "enterprise": enterprise, "rows": rows,
        "applications": selectors.loan_applications_for_enterprise(enterprise=enterprise)[:5],
    })


@enterprise_required
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loan = get_object_or_404(selectors.loans_for_enterprise(enterprise=request.user.enterprise), pk=pk)
    subsidies = list(loan.subsidies.select_related("parameter_set", "batch").all())
    return render(request, "enterprise/loan_detail.html", {
        "loan": loan, "subsidies": _subsidy_rows(subsidies, timezone.localdate()),
        "why_none": "" if subsidies else loan_ineligibility(loan),
    })


@enterprise_required
@require_http_methods(["GET", "POST"])
def subsidy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subsidy = get_object_or_404(selectors.subsidies_for_enterprise(enterprise=request.user.enterprise), pk=pk)
    have = set(subsidy.documents.values_list("doc_type", flat=True))
    needs = tuple(t for t in REQUIRED_DOCUMENTS[subsidy.kind] if t not in have)
    can_apply = subsidy.status == SubsidyStatus.COMPUTED and selectors.window_state(subsidy=subsidy) == rules.WINDOW_OPEN
    form = None
    if can_apply:
        initial = {"payee_name": subsidy.enterprise.name, "payee_bank": subsidy.loan.bank.name}
        form = SubsidyApplyForm(request.POST or None, request.FILES or None, needs=needs, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.subsidy_apply(
                    subsidy=subsidy, actor=request.user, payee_name=form.cleaned_data["payee_name"],
                    payee_bank=form.cleaned_data["payee_bank"], payee_account=form.cleaned_data["payee_account"],
                    documents=form.documents(),
                )
            except BusinessError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "申请已提交，财政部门审核后会在此更新进度。")
                return redirect("enterprise:subsidy", pk=subsidy.pk)
    elif request.method == "POST":
        try:  # the service gives the plain-language refusal (window, already applied, ineligible)
            services.subsidy_apply(subsidy=subsidy, actor=request.user, payee_name="", payee_bank="", payee_account="")
        except BusinessError as exc:
            messages.error(request, exc.message)
        return redirect("enterprise:subsidy", pk=subsidy.pk)
    return render(request, "enterprise/subsidy_detail.html", {
        "subsidy": subsidy, "form": form, "calc": subsidy.calculation,
        "next_step": selectors.subsidy_next_step(subsidy=subsidy),
        "reason": selectors.subsidy_stage_reason(subsidy=subsidy),
        "timeline": selectors.subsidy_timeline(subsidy=subsidy),
        "documents": subsidy.documents.all(),
    })


def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The enterprise's own document, or any for bureau staff who may view subsidies; else 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("enterprise:login"))
    doc = get_object_or_404(selectors.documents_visible_to(user=request.user), pk=pk)
    try:
        handle = doc.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    return FileResponse(handle, as_attachment=True, filename=doc.original_name, content_type=doc.content_type)


@enterprise_required
@require_http_methods(["GET", "POST"])
def applications(request: HttpRequest) -> HttpResponse:
    enterprise = request.user.enterprise
    form = LoanApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        p = form.cleaned_data["partnership"]
        try:
            services.loan_application_submit(
                enterprise=enterprise, programme=p.programme, bank=p.bank, amount=form.cleaned_data["amount"],
                purpose=form.cleaned_data["purpose"], actor=request.user,
                contact_name=form.cleaned_data["contact_name"], contact_phone=form.cleaned_data["contact_phone"],
            )
        except BusinessError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"申请已提交给{p.bank.name}，银行答复后会显示在这里。")
            return redirect("enterprise:applications")
    return render(request, "enterprise/applications.html", {
        "form": form, "applications": selectors.loan_applications_for_enterprise(enterprise=enterprise),
    })


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    form = ActivationForm(request.POST or None)
    if request.method == "POST":
        code_key = request.POST.get("credit_code", "").strip().upper()
        if not (throttle.hit("enterprise-activate-ip", throttle.client_ip(request), limit=ACTIVATE_LIMIT_PER_IP)
                and throttle.hit("enterprise-activate-code", code_key, limit=ACTIVATE_LIMIT_PER_CODE)):
            return render(request, "enterprise/too_many.html", {"message": "尝试过于频繁，请一分钟后再试。"}, status=429)
        if form.is_valid():
            try:
                services.enterprise_account_activate(
                    credit_code=form.cleaned_data["credit_code"], code=form.cleaned_data["code"],
                    password=form.cleaned_data["password1"],
                )
            except BusinessError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "账户已激活，请用统一社会信用代码和新密码登录。")
                return redirect("enterprise:login")
    return render(request, "enterprise/activate.html", {"form": form})


@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """Anonymous: the stage of one loan's subsidies by credit code + contract number (R38).

    Throttled per IP and per credit code; the same answer for every kind of miss.
    """
    form = LookupForm(request.POST or None)
    result = None
    if request.method == "POST":
        code_key = request.POST.get("credit_code", "").strip().upper()
        if not (throttle.hit("enterprise-lookup-ip", throttle.client_ip(request), limit=LOOKUP_LIMIT_PER_IP)
                and throttle.hit("enterprise-lookup-code", code_key, limit=LOOKUP_LIMIT_PER_CODE)):
            return render(request, "enterprise/lookup.html", {"form": form, "throttled": TOO_MANY}, status=429)
        if form.is_valid():
            result = selectors.subsidy_stage_lookup(
                credit_code=form.cleaned_data["credit_code"], contract_no=form.cleaned_data["contract_no"]
            )
    return render(request, "enterprise/lookup.html", {
        "form": form, "result": result, "searched": result is not None, "not_found": selectors.LOOKUP_NOT_FOUND,
    })

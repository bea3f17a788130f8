"""REST API for compensation claims (/api/claims/): banks file, staff decide.

- A bank user sees and files claims only for its own bank's loans; another bank's claim is 404.
- ``approve`` and ``pay`` need the second factor (a session verified with a TOTP code,
  registry.security.otp), like the admin's approval and payment actions.
- ``submit``, ``approve`` and ``pay`` accept an ``Idempotency-Key`` header: a replay returns the
  first response (status and body); the same key with a different request is refused with 409.
- Money leaves as strings with two decimals. Refusals are 400 (403 for a role or maker-checker
  refusal) with ``{"errors": [{code, message, rule, detail}]}`` and a Chinese message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from fund.claims_views import private_file_response
from fund.models import Claim, ClaimStatus, DocumentKind, IdempotencyRecord, Loan, LoanMode, RefundStatus
from fund.pdf import claim_decision_notice, notice_filename
from fund.selectors.claims import claim_list, claims_review_overdue, missing_documents
from fund.services.claim_documents import claim_document_add, guarantor_payment_record
from fund.services.claims import (
    claim_approve,
    claim_create,
    claim_pay,
    claim_reject,
    claim_return,
    claim_start_review,
    claim_submit,
)
from fund.services.recoveries import recovery_record
from registry.api import ChoiceLabelField
from registry.errors import BusinessError
from registry.security.otp import IsOTPVerified

FORBIDDEN_CODES = {"forbidden", "separation_of_duties"}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, location=OpenApiParameter.HEADER, required=False,
    description="幂等键：同一用户以相同的键重复请求时返回首次的响应；相同的键用于不同请求会被拒绝（409）",
)
ERRORS = OpenApiResponse(description="业务规则拒绝：{errors: [{code, message, rule, detail}]}")


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True, **kwargs)


# --- serializers -----------------------------------------------------------------------------


class ClaimDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = ChoiceLabelField(DocumentKind, source="kind")
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, document) -> str:
        return reverse("claims-api:claim-document", args=[document.claim_id, document.pk])


class StatusChangeSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    to_status_label = ChoiceLabelField(ClaimStatus, source="to_status")
    actor = serializers.CharField(source="actor.username")
    comment = serializers.CharField()
    changed_at = serializers.DateTimeField()


class RecoverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    recovered_on = serializers.DateField()
    gross_amount = _money()
    costs = _money()
    net_amount = _money()
    refund_due = _money()
    refund_due_on = serializers.DateField()
    refund_status = serializers.CharField()
    refund_status_label = ChoiceLabelField(RefundStatus, source="refund_status")
    refund_overdue = serializers.BooleanField()
    refund_received_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()


class ClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = ChoiceLabelField(ClaimStatus, source="status")
    loan = serializers.IntegerField(source="loan_id")
    contract_no = serializers.CharField(source="loan.contract_no")
    bank = serializers.CharField(source="loan.bank.name")
    enterprise_name = serializers.CharField(source="loan.enterprise_name")
    mode = serializers.CharField(source="loan.mode")
    mode_label = ChoiceLabelField(LoanMode, source="loan.mode")
    unpaid_principal = _money()
    unpaid_interest = _money()
    claim_date = serializers.DateField()
    pool_share_percent = _money(allow_null=True)
    claim_amount = _money(allow_null=True)
    paid_amount = _money(allow_null=True)
    unpaid_by_pool = _money()
    calculation = serializers.JSONField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    review_due_on = serializers.DateField(allow_null=True)
    review_overdue = serializers.BooleanField()
    return_comment = serializers.CharField()
    rejection_reason = serializers.CharField()
    paid_on = serializers.DateField(allow_null=True)
    pursuit_closed_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()


class ClaimDetailSerializer(ClaimSerializer):
    documents = ClaimDocumentSerializer(many=True)
    missing_documents = serializers.SerializerMethodField()
    status_history = StatusChangeSerializer(source="status_changes", many=True)
    recoveries = RecoverySerializer(many=True)
    notice_url = serializers.SerializerMethodField()

    def get_missing_documents(self, claim) -> list[dict[str, str]]:
        return [{"kind": k, "label": str(DocumentKind(k).label)} for k in missing_documents(claim=claim)]

    def get_notice_url(self, claim) -> str | None:
        return reverse("claims-api:claim-notice", args=[claim.pk]) if claim.has_decision else None


class ClaimCreateSerializer(serializers.Serializer):
    loan = serializers.IntegerField(required=False, help_text="贷款编号（与合同编号二选一）")
    contract_no = serializers.CharField(required=False, help_text="本行借款合同编号")
    unpaid_principal = _money(required=False, help_text="申请日未偿本金；缺省为登记的贷款余额")
    unpaid_interest = _money(required=False, default=Decimal("0"), help_text="欠息，仅记录，不予补偿（R20）")
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("loan") and not attrs.get("contract_no"):
            raise serializers.ValidationError("请指定贷款编号或借款合同编号")
        return attrs


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField()


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RecoveryCreateSerializer(serializers.Serializer):
    recovered_on = serializers.DateField()
    gross_amount = _money()
    costs = _money(required=False, default=Decimal("0"))
    evidence = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class GuarantorPaymentCreateSerializer(serializers.Serializer):
    loan = serializers.IntegerField()
    amount = _money()
    paid_on = serializers.DateField()
    voucher = serializers.FileField()


# --- idempotency -------------------------------------------------------------------------------


def error_response(exc: BusinessError) -> Response:
    code = status.HTTP_403_FORBIDDEN if exc.code in FORBIDDEN_CODES else status.HTTP_400_BAD_REQUEST
    return Response({"errors": [_plain(exc.as_dict())]}, status=code)


def _plain(value: Any) -> Any:
    """JSON-ready data (Decimal as a two-decimal string)."""
    return json.loads(JSONRenderer().render(value).decode()) if not isinstance(value, Decimal) else f"{value:.2f}"


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _conflict(message: str, code: str = "idempotency_conflict") -> Response:
    return Response({"errors": [{"code": code, "message": message}]}, status=status.HTTP_409_CONFLICT)


def _replay(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def service_key(user: Any, key: str) -> str:
    """The claim service's own idempotency key for an API key (per user, bounded length)."""
    return f"api:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def idempotent(request: Request, run: Callable[[str | None], Response]) -> Response:
    """Run ``run`` once per (user, Idempotency-Key); a replay gets the stored response.

    ``run`` receives the service-level key, which ``claim_transition`` records with the status
    change in the same transaction. So a request whose process died half-way (its record still
    "in progress") can be retried with the same key: the service either finds the change already
    made and returns the claim unchanged, or makes it now; it never happens twice. Two identical
    requests at once serialise on the claim row the same way.
    """
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        return run(None)
    if len(key) > 150:
        return Response({"errors": [{"code": "bad_idempotency_key", "message": "幂等键不能超过 150 个字符"}]},
                        status=status.HTTP_400_BAD_REQUEST)
    digest = _request_hash(request)
    try:
        with transaction.atomic():
            record, created = IdempotencyRecord.objects.create(user=request.user, key=key, request_hash=digest), True
    except IntegrityError:
        record, created = IdempotencyRecord.objects.get(user=request.user, key=key), False
    if record.request_hash != digest:
        return _conflict(f"幂等键“{key}”已用于内容不同的请求，不能重复使用")
    if record.response_status:
        return _replay(record)
    pending = IdempotencyRecord.objects.filter(pk=record.pk, response_status=0)
    try:
        response = run(service_key(request.user, key))
    except BaseException:
        if created:
            pending.delete()
        raise
    if response.status_code >= 500:
        if created:
            pending.delete()
        return response
    if not pending.update(response_status=response.status_code, response_body=_plain(response.data)):
        earlier = IdempotencyRecord.objects.filter(pk=record.pk).first()
        if earlier is not None and earlier.response_status:
            return _replay(earlier)  # an identical request finished first: answer as it did
    return response


# --- the viewset ----------------------------------------------------------------------------------


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Compensation claims (R23–R30)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        claims = claim_list(user=self.request.user).order_by("-created_at", "-id")
        if self.action == "retrieve":
            claims = claims.prefetch_related("documents", "status_changes__actor", "recoveries")
        params = self.request.query_params
        if params.get("status"):
            claims = claims.filter(status=params["status"])
        if params.get("review_overdue") in ("1", "true"):
            claims = claims.filter(pk__in=claims_review_overdue().values("pk"))
        return claims

    def get_serializer_class(self):
        return ClaimDetailSerializer if self.action == "retrieve" else ClaimSerializer

    def _run(self, request: Request, call: Callable[[Claim], Claim], *, code: int = 200) -> Response:
        claim = self.get_object()
        try:
            claim = call(claim)
        except BusinessError as exc:
            return error_response(exc)
        claim = self.get_queryset().prefetch_related("documents", "status_changes__actor", "recoveries").get(
            pk=claim.pk)
        return Response(ClaimDetailSerializer(claim).data, status=code)

    @extend_schema(
        summary="补偿申请列表",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ClaimStatus.values, description="按状态筛选"),
            OpenApiParameter("review_overdue", OpenApiTypes.BOOL, description="只看审核超时的申请（R29）"),
        ],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="补偿申请详情（含计算过程、材料、状态记录、追偿）", responses=ClaimDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="新建补偿申请（草稿）", request=ClaimCreateSerializer,
                   responses={201: ClaimDetailSerializer, 400: ERRORS, 404: OpenApiResponse(description="贷款不存在")})
    def create(self, request: Request) -> Response:
        data = self._valid(ClaimCreateSerializer, request)
        loans = Loan.objects.filter(bank_id=getattr(request.user, "bank_id", None) or -1)
        loan = get_object_or_404(loans, **({"pk": data["loan"]} if data.get("loan") else
                                           {"contract_no": data["contract_no"]}))
        try:
            claim = claim_create(loan=loan, actor=request.user, unpaid_principal=data.get("unpaid_principal"),
                                 unpaid_interest=data["unpaid_interest"], note=data["note"])
        except BusinessError as exc:
            return error_response(exc)
        return Response(ClaimDetailSerializer(claim).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(summary="上传申请材料（R25：PDF/JPEG/PNG，损失计算表可为 xlsx，≤10 MB）",
                   request={"multipart/form-data": DocumentUploadSerializer},
                   responses={201: ClaimDetailSerializer, 400: ERRORS})
    @action(detail=True, methods=["post"], url_path="documents")
    def documents(self, request: Request, pk: str | None = None) -> Response:
        data = self._valid(DocumentUploadSerializer, request)
        return self._run(request, lambda c: claim_document_add(
            claim=c, kind=data["kind"], file=data["file"], actor=request.user, name=data["file"].name).claim,
            code=status.HTTP_201_CREATED)

    @extend_schema(summary="下载申请材料（仅申请银行与财政部门）", responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<document_pk>\d+)", url_name="document")
    def document(self, request: Request, pk: str | None = None, document_pk: str | None = None) -> HttpResponse:
        claim = self.get_object()
        document = get_object_or_404(claim.documents.all(), pk=document_pk)
        return private_file_response(request.user, claim, document.file, document.original_name,
                                     document.content_type)

    @extend_schema(summary="提交申请", request=None, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: ClaimDetailSerializer, 400: ERRORS, 409: ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return idempotent(request, lambda key: self._run(
            request, lambda c: claim_submit(claim=c, actor=request.user, idempotency_key=key)))

    @extend_schema(summary="开始审核（经办）", request=CommentSerializer, responses={200: ClaimDetailSerializer, 400: ERRORS})
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request: Request, pk: str | None = None) -> Response:
        comment = self._valid(CommentSerializer, request)["comment"]
        return self._run(request, lambda c: claim_start_review(claim=c, actor=request.user, comment=comment))

    @extend_schema(summary="批准（复核；不得为审核人或提交人）", request=CommentSerializer, parameters=[IDEMPOTENCY_HEADER],
                   responses={200: ClaimDetailSerializer, 400: ERRORS, 403: ERRORS, 409: ERRORS})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsOTPVerified])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        comment = self._valid(CommentSerializer, request)["comment"]
        return idempotent(request, lambda key: self._run(
            request, lambda c: claim_approve(claim=c, actor=request.user, comment=comment, idempotency_key=key)))

    @extend_schema(summary="退回补正（须写明意见）", request=CommentSerializer, responses={200: ClaimDetailSerializer, 400: ERRORS})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        comment = self._valid(CommentSerializer, request)["comment"]
        return self._run(request, lambda c: claim_return(claim=c, actor=request.user, comment=comment))

    @extend_schema(summary="驳回（须写明理由）", request=CommentSerializer, responses={200: ClaimDetailSerializer, 400: ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        comment = self._valid(CommentSerializer, request)["comment"]
        return self._run(request, lambda c: claim_reject(claim=c, actor=request.user, reason=comment))

    @extend_schema(summary="支付（经资金池总账，仅一次；支付人不得为审核人或批准人）", request=None,
                   parameters=[IDEMPOTENCY_HEADER], responses={200: ClaimDetailSerializer, 400: ERRORS, 409: ERRORS})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, IsOTPVerified])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        return idempotent(request, lambda key: self._run(
            request, lambda c: claim_pay(claim=c, actor=request.user, idempotency_key=key)))

    @extend_schema(summary="补偿决定通知书（PDF）", responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"], url_path="notice", url_name="notice")
    def notice(self, request: Request, pk: str | None = None) -> HttpResponse:
        claim = self.get_object()
        if not claim.has_decision:
            return error_response(BusinessError("申请尚未作出决定，没有决定通知书", code="no_decision"))
        return HttpResponse(claim_decision_notice(claim), content_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{notice_filename(claim)}"'})

    @extend_schema(summary="登记追偿收回（R30）", request={"multipart/form-data": RecoveryCreateSerializer},
                   responses={201: RecoverySerializer, 400: ERRORS})
    @action(detail=True, methods=["post"])
    def recoveries(self, request: Request, pk: str | None = None) -> Response:
        claim = self.get_object()
        data = self._valid(RecoveryCreateSerializer, request)
        try:
            recovery = recovery_record(claim=claim, gross_amount=data["gross_amount"], costs=data["costs"],
                                       recovered_on=data["recovered_on"], evidence=data["evidence"],
                                       actor=request.user, note=data["note"], name=data["evidence"].name)
        except BusinessError as exc:
            return error_response(exc)
        return Response(RecoverySerializer(recovery).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="担保机构登记代偿（政银担，附代偿凭证）", request={"multipart/form-data": GuarantorPaymentCreateSerializer},
        responses={201: inline_serializer("GuarantorPaymentCreated", {"id": serializers.IntegerField(),
                                                                      "amount": _money()}), 400: ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="guarantor-payments", url_name="guarantor-payments")
    def guarantor_payments(self, request: Request) -> Response:
        data = self._valid(GuarantorPaymentCreateSerializer, request)
        loan = get_object_or_404(Loan.objects.filter(guarantor_id=getattr(request.user, "guarantor_id", None) or -1),
                                 pk=data["loan"])
        try:
            payment = guarantor_payment_record(loan=loan, amount=data["amount"], paid_on=data["paid_on"],
                                               voucher=data["voucher"], actor=request.user, name=data["voucher"].name)
        except BusinessError as exc:
            return error_response(exc)
        return Response({"id": payment.pk, "amount": f"{payment.amount:.2f}"}, status=status.HTTP_201_CREATED)


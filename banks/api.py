"""REST API for partner banks (token auth; docs/intake.md §API).

Bank users act for their own bank; guarantor users read the loans they guarantee; bureau staff
read everything (and may submit for a bank, naming it, e.g. with an R15 override reason).
Another bank's object answers 404.  Money is a string with two decimals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fund.models import Classification, Loan, LoanMode, LoanStatus, Programme
from registry.api import ChoiceLabelField
from registry.models import Bank

from . import selectors, services
from .intake import fields as F
from .models import BatchKind, BatchStatus, IntakeBatch
from .portal_selectors import UPLOAD_PERMISSION

ISSUES_PAGE = 1000


class PortalUser(BasePermission):
    """Bank users, guarantor users and bureau staff."""

    message = "只有合作银行、担保机构用户或财政工作人员可以使用本接口"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.bank_id or user.guarantor_id or user.is_bureau))


# --------------------------------------------------------------------------- serializers


class IssueSerializer(serializers.Serializer):
    sheet = serializers.CharField()
    row = serializers.IntegerField(allow_null=True, help_text="Excel 行号；接口记录为从 1 开始的序号；整个文件的问题为 null")
    column = serializers.CharField(help_text="列标题；接口记录为字段名")
    value = serializers.CharField()
    rule = serializers.CharField(help_text="规则编号，如 R12；格式问题为空")
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=["error", "warning", "info"])


class BatchSerializer(serializers.ModelSerializer):
    bank = serializers.CharField(source="bank.code", read_only=True)
    programme = serializers.CharField(source="programme.code", read_only=True)
    status_display = ChoiceLabelField(BatchStatus, source="status")
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = IntakeBatch
        fields = ["id", "bank", "programme", "kind", "source", "filename", "status", "status_display",
                  "rows_total", "rows_done", "progress_percent", "error_count", "warning_count", "info_count",
                  "is_correction", "uploaded_at", "finished_at", "applied_at", "duplicate_of", "summary"]
        read_only_fields = fields


class BatchDetailSerializer(BatchSerializer):
    issues = serializers.SerializerMethodField()
    issues_total = serializers.SerializerMethodField()

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "issues_total", "issues"]
        read_only_fields = fields

    def get_issues_total(self, obj: IntakeBatch) -> int:
        return len(obj.issues)

    @extend_schema_field(IssueSerializer(many=True))
    def get_issues(self, obj: IntakeBatch) -> list[dict[str, Any]]:
        offset, limit = self.context.get("issues_window", (0, ISSUES_PAGE))
        return obj.issues[offset: offset + limit]


class _SubmitSerializer(serializers.Serializer):
    is_correction = serializers.BooleanField(default=False, help_text="月度状态报告：本次为更正报送")
    override_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300,
        help_text="逾期备案特批理由（R15），仅财政经办人员可填写",
    )
    programme = serializers.CharField(required=False, allow_blank=True, default="",
                                      help_text="项目代码；银行只参与一个项目时可省略")
    bank = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="银行机构代码，仅财政工作人员代为报送时填写")


class UploadSerializer(_SubmitSerializer):
    file = serializers.FileField(help_text=".xlsx、.xls 或 .csv（UTF-8 / GBK）")
    kind = serializers.ChoiceField(choices=BatchKind.choices)


class RecordsSerializer(_SubmitSerializer):
    records = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=services.API_MAX_RECORDS,
        help_text="记录数组，字段名见 banks/intake/fields.py（docs/intake.md）",
    )


class LoanSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code", read_only=True)
    bank = serializers.CharField(source="bank.code", read_only=True)
    credit_code = serializers.CharField(source="enterprise.credit_code", read_only=True)
    guarantor = serializers.CharField(source="guarantor.name", read_only=True, default=None, allow_null=True)
    mode_display = ChoiceLabelField(LoanMode, source="mode")
    status_display = ChoiceLabelField(LoanStatus, source="status")
    classification_display = ChoiceLabelField(Classification, source="classification")

    class Meta:
        model = Loan
        fields = ["id", "programme", "bank", "contract_no", "credit_code", "enterprise_name", "mode", "mode_display",
                  "guarantor", "guarantee_contract_no", "guarantee_fee_rate", "signed_on", "disbursed_on",
                  "matures_on", "principal", "annual_rate", "purpose", "registered_at", "source_batch",
                  "outstanding_principal", "overdue_days", "classification", "classification_display", "status",
                  "status_display", "settled_on", "interest_paid_total", "guarantee_fee_paid_total",
                  "last_report_month", "ever_overdue", "nonperforming_since"]
        read_only_fields = fields


class ExceptionSerializer(serializers.ModelSerializer):
    bank = serializers.CharField(source="bank.code", read_only=True)
    credit_code = serializers.CharField(source="enterprise.credit_code", read_only=True)

    class Meta:
        model = Loan
        fields = ["id", "bank", "contract_no", "credit_code", "enterprise_name", "disbursed_on",
                  "outstanding_principal", "status", "last_report_month"]
        read_only_fields = fields


# --------------------------------------------------------------------------- helpers


def _submit_target(request: Request, data: dict[str, Any]) -> tuple[Bank, Programme | None]:
    """The bank a submission is for (the user's own; bureau staff name one) and the programme."""
    user = request.user
    code = (data.get("bank") or "").strip()
    if user.bank_id:
        if code and code != user.bank.code:
            raise PermissionDenied("只能为本行报送数据")
        bank = user.bank
    elif user.is_bureau:
        if not user.has_perm(UPLOAD_PERMISSION):  # as the portal: 复核 and 审计 do not submit bank data
            raise PermissionDenied("您没有代银行报送数据的权限")
        if not code:
            raise ValidationError({"bank": ["财政工作人员代为报送时须填写银行机构代码"]})
        bank = Bank.objects.filter(code=code).first()
        if bank is None:
            raise ValidationError({"bank": [f"没有机构代码为 {code} 的银行"]})
    else:
        raise PermissionDenied("担保机构用户不能报送银行数据")
    programme = None
    if data.get("programme"):
        programme = Programme.objects.filter(code=data["programme"]).first()
        if programme is None:
            raise ValidationError({"programme": [f"没有代码为 {data['programme']} 的项目"]})
    return bank, programme


def _parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise ValidationError({"month": ["应为 YYYY-MM，如 2021-06"]}) from None


# --------------------------------------------------------------------------- views


class UploadView(APIView):
    permission_classes = [IsAuthenticated, PortalUser]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="上传贷款备案或月度状态报告工作簿",
        description="立即返回 202 与批次号；处理在后台进行，用 GET /api/bank/batches/{id}/ 查询进度与问题清单。"
                    "同一文件重复上传返回状态为 duplicate 的批次，不作任何更改。",
        request=UploadSerializer, responses={202: BatchSerializer}, tags=["bank intake"],
    )
    def post(self, request: Request) -> Response:
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        bank, programme = _submit_target(request, form.validated_data)
        upload = form.validated_data["file"]
        batch = services.intake_upload(
            bank=bank, programme=programme, kind=form.validated_data["kind"], fileobj=upload,
            filename=upload.name, uploaded_by=request.user, is_correction=form.validated_data["is_correction"],
            override_reason=form.validated_data["override_reason"],
        )
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class BatchListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated, PortalUser]
    serializer_class = BatchSerializer

    @extend_schema(summary="本行的报送批次", tags=["bank intake"], parameters=[
        OpenApiParameter("status", str, enum=BatchStatus.values), OpenApiParameter("kind", str, enum=BatchKind.values),
    ])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return IntakeBatch.objects.none()
        qs = selectors.batch_list(user=self.request.user)
        for key in ("status", "kind"):
            if self.request.query_params.get(key):
                qs = qs.filter(**{key: self.request.query_params[key]})
        return qs


class BatchDetailView(APIView):
    permission_classes = [IsAuthenticated, PortalUser]

    @extend_schema(
        summary="批次状态、进度与问题清单",
        description="issues 每项：{sheet,row,column,value,rule,message,level}；默认返回前 1000 条，"
                    "用 issues_offset / issues_limit 翻页。",
        parameters=[OpenApiParameter("issues_offset", int), OpenApiParameter("issues_limit", int)],
        responses={200: BatchDetailSerializer}, tags=["bank intake"],
    )
    def get(self, request: Request, pk: Any) -> Response:
        batch = selectors.batch_get(user=request.user, batch_id=pk)
        if batch is None:
            raise NotFound("没有这个批次")
        try:
            offset = max(0, int(request.query_params.get("issues_offset", 0)))
            limit = min(ISSUES_PAGE, max(1, int(request.query_params.get("issues_limit", ISSUES_PAGE))))
        except ValueError:
            raise ValidationError({"issues_offset": ["应为整数"]}) from None
        data = BatchDetailSerializer(batch, context={"issues_window": (offset, limit)}).data
        return Response(data)


class _RecordsView(APIView):
    permission_classes = [IsAuthenticated, PortalUser]
    parser_classes = [JSONParser]
    kind = ""

    def post(self, request: Request) -> Response:
        form = RecordsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        bank, programme = _submit_target(request, form.validated_data)
        batch = services.intake_submit_records(
            bank=bank, programme=programme, kind=self.kind, records=form.validated_data["records"],
            actor=request.user, is_correction=form.validated_data["is_correction"],
            override_reason=form.validated_data["override_reason"],
        )
        body = {"batch": BatchSerializer(batch).data}
        if batch.status != BatchStatus.APPLIED:
            body["errors"] = [i for i in batch.issues if i["level"] == "error"]
            body["warnings"] = [i for i in batch.issues if i["level"] != "error"]
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        body["warnings"] = batch.issues
        created = batch.summary.get("loans_created", 0) or batch.summary.get("reports_created", 0)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


_RECORDS_RESPONSES = {
    201: inline_serializer("RecordsApplied", {"batch": BatchSerializer(), "warnings": IssueSerializer(many=True)}),
    200: inline_serializer("RecordsNothingNew", {"batch": BatchSerializer(), "warnings": IssueSerializer(many=True)}),
    400: inline_serializer("RecordsRejected", {"batch": BatchSerializer(), "errors": IssueSerializer(many=True),
                                               "warnings": IssueSerializer(many=True)}),
}


def _records_doc(kind: str) -> str:
    names = ", ".join(f"{f.name}（{f.header}）" for f in F.fields_for(kind))
    return (f"同步处理，最多 {services.API_MAX_RECORDS} 条；与工作簿相同的校验。全部通过则一次性导入（201；"
            f"全部为已报送的重复记录时 200），任何一条有错误则全部不导入（400，errors 中 row 为记录序号、column 为字段名）。"
            f"字段：{names}")


class RegistrationRecordsView(_RecordsView):
    kind = BatchKind.REGISTRATION

    @extend_schema(summary="以 JSON 提交贷款备案", description=_records_doc(F.REGISTRATION),
                   request=RecordsSerializer, responses=_RECORDS_RESPONSES, tags=["bank intake"])
    def post(self, request: Request) -> Response:
        return super().post(request)


class StatusRecordsView(_RecordsView):
    kind = BatchKind.STATUS

    @extend_schema(summary="以 JSON 提交月度贷款状态", description=_records_doc(F.STATUS),
                   request=RecordsSerializer, responses=_RECORDS_RESPONSES, tags=["bank intake"])
    def post(self, request: Request) -> Response:
        return super().post(request)


class LoanListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated, PortalUser]
    serializer_class = LoanSerializer

    @extend_schema(summary="本行备案的贷款（担保机构：其担保的贷款）", tags=["bank loans"], parameters=[
        OpenApiParameter("status", str, enum=LoanStatus.values), OpenApiParameter("contract_no", str),
        OpenApiParameter("credit_code", str), OpenApiParameter("programme", str),
    ])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Loan.objects.none()
        params = self.request.query_params
        programme_id = None
        if params.get("programme"):
            programme_id = get_object_or_404(Programme, code=params["programme"]).pk
        return selectors.loan_list(
            user=self.request.user, status=params.get("status", ""), contract_no=params.get("contract_no", ""),
            credit_code=params.get("credit_code", ""), programme_id=programme_id,
        )


class LoanDetailView(APIView):
    permission_classes = [IsAuthenticated, PortalUser]

    @extend_schema(summary="一笔贷款及其最新月度状态", responses={200: LoanSerializer}, tags=["bank loans"])
    def get(self, request: Request, pk: int) -> Response:
        loan = selectors.loan_get(user=request.user, loan_id=pk)
        if loan is None:
            raise NotFound("没有这笔贷款")
        return Response(LoanSerializer(loan).data)


class ExceptionListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated, PortalUser]
    serializer_class = ExceptionSerializer

    @extend_schema(
        summary="当月未报送状态的贷款（R43 例外清单）",
        parameters=[OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM"),
                    OpenApiParameter("bank", str, description="银行机构代码（财政工作人员）")],
        tags=["bank loans"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Loan.objects.none()
        month = _parse_month(self.request.query_params.get("month", ""))
        bank_id = None
        code = self.request.query_params.get("bank")
        if code and self.request.user.is_bureau:
            bank_id = get_object_or_404(Bank, code=code).pk
        return selectors.missing_status_reports(user=self.request.user, month=month, bank_id=bank_id)

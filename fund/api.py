"""REST API of the fund app. Money and multiples leave as strings with two decimals, never floats."""

from __future__ import annotations

from datetime import date

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fund.models import Programme
from fund.selectors import leverage_by_bank, leverage_overall


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)


class LeverageFiguresSerializer(serializers.Serializer):
    disbursed = _money()
    base = _money()
    multiple = _money()
    target_amount = _money()
    target_multiple = _money()
    expected_to_date = _money()
    shortfall = _money()
    progress_percent = _money()
    on_track = serializers.BooleanField()


class BankLeverageSerializer(LeverageFiguresSerializer):
    bank_code = serializers.CharField()
    bank_name = serializers.CharField()
    state = serializers.CharField()
    state_reason = serializers.CharField()


class LeverageResponseSerializer(serializers.Serializer):
    programme = serializers.CharField()
    as_of = serializers.DateField()
    elapsed_days = serializers.IntegerField()
    total_days = serializers.IntegerField()
    overall = LeverageFiguresSerializer()
    banks = BankLeverageSerializer(many=True)


class IsBureauOrBankUser(permissions.BasePermission):
    message = "仅财政部门工作人员和合作银行用户可查看放大倍数"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.bank_id or getattr(user, "is_bureau", False)))


class LeverageView(APIView):
    """R4: leverage overall and per bank; a bank user sees only its own bank."""

    permission_classes = [IsBureauOrBankUser]

    @extend_schema(
        summary="放大倍数（R4）",
        parameters=[
            OpenApiParameter("programme", OpenApiTypes.STR, description="项目代码，如 FBD", required=True),
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="截止日期，默认今天"),
        ],
        responses=LeverageResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        code = request.query_params.get("programme", "")
        if not code:
            raise ValidationError({"programme": "请指定项目代码"})
        programme = get_object_or_404(Programme, code=code)
        as_of = self._as_of(request.query_params.get("as_of"))
        overall = leverage_overall(programme=programme, as_of=as_of)
        bank_id = request.user.bank_id or None
        banks = [
            {
                **vars(item.figures), "on_track": item.figures.on_track, "bank_code": item.bank.code,
                "bank_name": item.bank.name, "state": item.partnership.state,
                "state_reason": item.partnership.state_reason,
            }
            for item in leverage_by_bank(programme=programme, as_of=as_of, bank_id=bank_id)
        ]
        data = {
            "programme": programme.code, "as_of": as_of, "elapsed_days": overall.elapsed_days,
            "total_days": overall.total_days, "overall": {**vars(overall), "on_track": overall.on_track},
            "banks": banks,
        }
        return Response(LeverageResponseSerializer(data).data)

    @staticmethod
    def _as_of(value: str | None) -> date:
        if not value:
            return timezone.localdate()
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError({"as_of": f"日期格式应为 YYYY-MM-DD：{value}"}) from None

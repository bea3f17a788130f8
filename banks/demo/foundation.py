"""Demo: the 服保贷 programme with its defaults, 9 partner banks, guarantors, users."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import TextIO

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from fund.models import GuarantorPartnership, ParameterSet, Partnership, Programme
from registry import roles
from registry.models import Bank, Guarantor, User

PROGRAMME_CODE = "FBD"
PROGRAMME_START = date(2021, 5, 28)
PROGRAMME_END = date(2022, 5, 27)
TREASURY = Decimal("150000000.00")

# (code, name, short name, committed lending 元). The pilot did not publish the
# banks' amounts; these are plausible and sum to more than 10 × the pool (R4).
BANKS = [
    ("B01", "中国工商银行四川省分行", "工行四川", Decimal("300000000")),
    ("B02", "中国农业银行四川省分行", "农行四川", Decimal("250000000")),
    ("B03", "中国银行四川省分行", "中行四川", Decimal("200000000")),
    ("B04", "中国建设银行四川省分行", "建行四川", Decimal("200000000")),
    ("B05", "交通银行四川省分行", "交行四川", Decimal("150000000")),
    ("B06", "成都银行", "成都银行", Decimal("150000000")),
    ("B07", "四川银行", "四川银行", Decimal("120000000")),
    ("B08", "乐山市商业银行", "乐山商行", Decimal("100000000")),
    ("B09", "四川天府银行", "天府银行", Decimal("80000000")),
]
GUARANTORS = [
    ("G01", "四川省融资担保有限公司", "省融资担保"),
    ("G02", "成都小企业融资担保有限责任公司", "成都小担"),
]
BUREAU_USERS = [
    ("bureau_admin", "管理员", roles.ADMINISTRATOR),
    ("bureau_handler", "经办人员", roles.HANDLER),
    ("bureau_approver", "复核人员", roles.APPROVER),
    ("bureau_auditor", "审计人员", roles.AUDITOR),
]


def demo_password() -> str:
    """interfaces.md: $DEMO_PASSWORD when set, otherwise one random password per run."""
    global _PASSWORD
    if _PASSWORD is None:
        _PASSWORD = settings.DEMO_PASSWORD or f"Demo-{secrets.token_urlsafe(9)}"
    return _PASSWORD


_PASSWORD: str | None = None


def programme() -> Programme:
    return Programme.objects.get(code=PROGRAMME_CODE)


@transaction.atomic
def load_programme(out: TextIO) -> None:
    prog, _ = Programme.objects.get_or_create(
        code=PROGRAMME_CODE,
        defaults={
            "name": "服保贷",
            "start_date": PROGRAMME_START,
            "end_date": PROGRAMME_END,
            "description": "服务业小微企业贷款风险补偿资金池（试点一年）",
        },
    )
    if not prog.parameter_sets.exists():
        ParameterSet.objects.create(
            programme=prog,
            effective_from=date(2020, 1, 1),
            note="服保贷默认参数",
            treasury_contribution=TREASURY,
            application_opens=PROGRAMME_START,
            application_closes=date(2022, 12, 31),
        )


@transaction.atomic
def load_partners(out: TextIO) -> None:
    prog = programme()
    total_commitment = sum(b[3] for b in BANKS)
    for code, name, short, committed in BANKS:
        bank, _ = Bank.objects.get_or_create(code=code, defaults={"name": name, "short_name": short})
        allocation = (TREASURY * committed / total_commitment).quantize(Decimal("0.01"))
        Partnership.objects.get_or_create(
            programme=prog, bank=bank,
            defaults={"committed_lending": committed, "pool_allocation": allocation, "joined_on": PROGRAMME_START},
        )
    for code, name, short in GUARANTORS:
        guarantor, _ = Guarantor.objects.get_or_create(code=code, defaults={"name": name, "short_name": short})
        GuarantorPartnership.objects.get_or_create(
            programme=prog, guarantor=guarantor, defaults={"joined_on": PROGRAMME_START}
        )


def _user(username: str, *, first_name: str, group: str, staff: bool = False, **binding) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first_name, **binding})
    user.is_staff = staff
    user.is_superuser = group == roles.ADMINISTRATOR
    user.set_password(demo_password())
    user.save()
    user.groups.set([Group.objects.get(name=group)])
    return user


@transaction.atomic
def load_users(out: TextIO) -> list[tuple[str, str]]:
    """Demo users for every role; returns (username, description) for printing."""
    made: list[tuple[str, str]] = []
    for username, label, group in BUREAU_USERS:
        _user(username, first_name=label, group=group, staff=True)
        made.append((username, f"财政 · {group}"))
    for i, bank in enumerate(Bank.objects.order_by("code"), start=1):
        username = f"bank{i:02d}"
        _user(username, first_name=bank.short_name, group=roles.BANK_USER, bank=bank)
        made.append((username, f"银行 · {bank.name}"))
    for i, guarantor in enumerate(Guarantor.objects.order_by("code"), start=1):
        username = f"guarantor{i:02d}"
        _user(username, first_name=guarantor.short_name, group=roles.GUARANTOR_USER, guarantor=guarantor)
        made.append((username, f"担保 · {guarantor.name}"))
    return made

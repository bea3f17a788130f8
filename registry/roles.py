"""Roles are groups with permissions, created by migration and kept in sync after
every migrate (new models bring new permissions).

Bureau roles: 经办 handles, 复核 approves, 管理员 administers, 审计 reads
everything and changes nothing.  Bank, guarantor and enterprise users work in
their portals and hold no admin permission.
"""

from __future__ import annotations

from typing import Any

HANDLER = "经办"
APPROVER = "复核"
ADMINISTRATOR = "管理员"
AUDITOR = "审计"
BANK_USER = "银行用户"
GUARANTOR_USER = "担保机构用户"
ENTERPRISE_USER = "企业用户"

BUREAU_ROLES = (HANDLER, APPROVER, ADMINISTRATOR, AUDITOR)
ALL_ROLES = (*BUREAU_ROLES, BANK_USER, GUARANTOR_USER, ENTERPRISE_USER)
PROJECT_APPS = ("registry", "fund", "banks", "subsidies", "reporting")
# Models only the 管理员 may change (the programme's own set-up).
ADMIN_ONLY_MODELS = {"programme", "parameterset", "user", "region", "industrysection", "industrydivision",
                     "smethreshold"}
# Custom permissions that mean "may approve/pay": the 复核 role's, never the 经办's.
APPROVAL_CODENAMES = ("approve_", "pay_")
# "view_" permissions that are NOT everyone's: the 管理员 grants them to individual users.
PRIVILEGED_VIEW_CODENAMES = {"view_pii"}


def _role_permissions(role: str, perms: list[Any]) -> list[Any]:
    if role == ADMINISTRATOR:
        return perms
    views = [p for p in perms if p.codename.startswith("view_") and p.codename not in PRIVILEGED_VIEW_CODENAMES]
    if role == AUDITOR:
        return views
    approvals = [p for p in perms if p.codename.startswith(APPROVAL_CODENAMES)]
    if role == APPROVER:
        return views + approvals
    if role == HANDLER:
        writable = [
            p for p in perms
            if p.codename.startswith(("add_", "change_", "handle_"))
            and p.content_type.model not in ADMIN_ONLY_MODELS
            and not p.content_type.model.startswith("historical")
        ]
        return views + writable
    return []


def sync_roles(group_model: Any, permission_model: Any) -> None:
    """Create every role group and (re)assign its permissions."""
    perms = list(
        permission_model.objects.filter(content_type__app_label__in=PROJECT_APPS).select_related("content_type")
    )
    for role in ALL_ROLES:
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set(_role_permissions(role, perms))


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    if getattr(sender, "name", "") != "reporting":  # once, after the last project app
        return
    from django.contrib.auth.models import Group, Permission

    sync_roles(Group, Permission)

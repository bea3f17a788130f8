"""Writes about programmes and partners. (The ledger, claims and suspension add to this app.)"""

from __future__ import annotations

from django.db import transaction

from fund.models import CooperationChange, CooperationState, GuarantorPartnership, Partnership
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User


@transaction.atomic
def partnership_set_state(
    *,
    partnership: Partnership | GuarantorPartnership,
    state: str,
    reason: str,
    rule: str = "",
    actor: User | None = None,
) -> Partnership | GuarantorPartnership:
    """Change a partner's cooperation state, recording who, when and why (R5).

    Automatic changes (suspension rules) pass ``rule`` and no actor.
    """
    if state not in CooperationState.values:
        raise BusinessError(f"未知的合作状态：{state}", code="bad_state")
    locked = type(partnership).objects.select_for_update().get(pk=partnership.pk)
    if locked.state == state:
        return locked
    if locked.state == CooperationState.ENDED:
        raise BusinessError("已终止合作的机构不能再变更状态", code="partnership_ended", rule="R5")
    change = CooperationChange(
        from_state=locked.state, to_state=state, rule=rule, reason=reason, actor=actor
    )
    if isinstance(locked, Partnership):
        change.partnership = locked
    else:
        change.guarantor_partnership = locked
    change.save()
    previous = locked.state
    locked.state, locked.state_reason = state, (f"{rule} {reason}".strip())[:200]
    locked.save(update_fields=["state", "state_reason"])
    record_event(
        actor=actor, event_type="partnership.state_changed", obj=locked,
        from_state=previous, to_state=state, rule=rule, reason=reason,
    )
    return locked

"""R5: every change of a partner's cooperation state records who, when and why."""

import pytest

from fund.models import CooperationChange, CooperationState
from fund.services import partnership_set_state
from registry.errors import BusinessError
from registry.models import DomainEvent
from tests.factories import PartnershipFactory

pytestmark = pytest.mark.django_db


def test_suspension_records_the_rule_and_reason_r5():
    partnership = PartnershipFactory()
    partnership_set_state(partnership=partnership, state=CooperationState.SUSPENDED, reason="逾期率 5.01%", rule="R31")
    change = CooperationChange.objects.get()
    assert (change.from_state, change.to_state, change.rule, change.actor) == ("active", "suspended", "R31", None)
    partnership.refresh_from_db()
    assert partnership.state == CooperationState.SUSPENDED
    assert "R31" in partnership.state_reason
    assert DomainEvent.objects.filter(event_type="partnership.state_changed").count() == 1


def test_setting_the_same_state_records_nothing():
    partnership = PartnershipFactory()
    partnership_set_state(partnership=partnership, state=CooperationState.ACTIVE, reason="无变化")
    assert not CooperationChange.objects.exists()


def test_an_ended_partnership_cannot_be_reactivated():
    partnership = PartnershipFactory()
    partnership_set_state(partnership=partnership, state=CooperationState.ENDED, reason="协议到期")
    with pytest.raises(BusinessError, match="已终止合作"):
        partnership_set_state(partnership=partnership, state=CooperationState.ACTIVE, reason="恢复")

"""Make one approved compensation claim in the running stack's database, for the payment fault test.

Run with the stack's environment (tests/stack/test_faults.py does): prints one JSON line
``{"claim_id": …, "number": …, "amount": "…", "otp": {…}}``. The claim goes through the claims services as
in production: a non-performing loan of bank01's bank, every required document, submitted by
bank01, review started by bureau_handler, approved by bureau_approver (R27: the payer, bureau_admin,
is a third person, and gets a confirmed TOTP device whose key is printed, so the test can pass
the second factor that payments require). The loan itself is written with the claims tests' own builder, since a real
one would need months of overdue status reports.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from decimal import Decimal

    from fund.models import Programme
    from fund.services.claims import claim_approve, claim_start_review
    from registry.models import User
    from registry.security.testing import confirmed_device
    from tests.fund.claims_factories import claimable_loan, submitted_claim

    bank_user = User.objects.get(username="bank01")
    programme = Programme.objects.order_by("pk").first()
    loan = claimable_loan(programme=programme, bank=bank_user.bank, principal=Decimal("300000.00"),
                          contract_no=f"FT-CLAIM-{uuid.uuid4().hex[:10]}")
    claim = submitted_claim(loan, user=bank_user)
    claim = claim_start_review(claim=claim, actor=User.objects.get(username="bureau_handler"))
    claim = claim_approve(claim=claim, actor=User.objects.get(username="bureau_approver"))
    device = confirmed_device(User.objects.get(username="bureau_admin"))
    print(json.dumps({"claim_id": claim.pk, "number": claim.number, "amount": f"{claim.claim_amount:.2f}",
                      "status": claim.status,
                      "otp": {"key": device.key, "step": device.step, "t0": device.t0, "digits": device.digits}}))


if __name__ == "__main__":
    main()

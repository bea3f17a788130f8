from .loans import NON_PERFORMING, Classification, Loan, LoanMode, LoanStatus
from .partners import CooperationChange, CooperationState, GuarantorPartnership, Partnership
from .programme import CapBasis, ParameterSet, Programme, ReferenceRate

__all__ = [
    "NON_PERFORMING",
    "CapBasis",
    "Classification",
    "CooperationChange",
    "CooperationState",
    "GuarantorPartnership",
    "Loan",
    "LoanMode",
    "LoanStatus",
    "ParameterSet",
    "Partnership",
    "Programme",
    "ReferenceRate",
]

"""Chinese names of the indicators (R40) and their kinds, shared by the admin, PDF and Excel exports."""

from __future__ import annotations

# metric -> (label, kind); kind: count | money | rate (percent) | multiple
METRICS: dict[str, tuple[str, str]] = {
    "applicants": ("申请企业(户)", "count"),
    "borrowers": ("获贷企业(户)", "count"),
    "private_borrowers": ("获贷民营企业(户)", "count"),
    "private_share": ("民营企业占比", "rate"),
    "loans": ("贷款笔数", "count"),
    "principal": ("累计放款(元)", "money"),
    "outstanding_principal": ("贷款余额(元)", "money"),
    "avg_rate": ("加权平均合同利率", "rate"),
    "effective_rate": ("贴息后实际利率", "rate"),
    "overdue_principal": ("逾期贷款余额(元)", "money"),
    "overdue_rate": ("逾期率", "rate"),
    "npl_principal": ("不良贷款余额(元)", "money"),
    "npl_rate": ("不良率", "rate"),
    "claims_filed": ("补偿申请(笔)", "count"),
    "claims_filed_amount": ("申请补偿金额(元)", "money"),
    "claims_paid": ("已补偿(笔)", "count"),
    "claims_paid_amount": ("已补偿金额(元)", "money"),
    "compensation_rate": ("代偿率", "rate"),
    "recoveries": ("追偿收回(笔)", "count"),
    "recoveries_gross": ("追偿收回金额(元)", "money"),
    "recoveries_net": ("追偿净收回(元)", "money"),
    "refunds_to_pool": ("返还资金池(元)", "money"),
    "subsidies_approved": ("核准补贴(笔)", "count"),
    "subsidies_approved_amount": ("核准补贴金额(元)", "money"),
    "subsidies_paid": ("已支付补贴(笔)", "count"),
    "subsidies_paid_amount": ("已支付补贴金额(元)", "money"),
    "interest_subsidies_paid_amount": ("其中贴息(元)", "money"),
    "fee_subsidies_paid_amount": ("其中担保费补贴(元)", "money"),
    "leverage": ("放大倍数", "multiple"),
    "leverage_target": ("目标放大倍数", "multiple"),
    "leverage_expected_multiple": ("按进度应达倍数", "multiple"),
    "leverage_disbursed": ("累计放款(按放款日)(元)", "money"),
    "leverage_base": ("放大倍数基数(元)", "money"),
    "leverage_target_amount": ("目标放款额(元)", "money"),
    "leverage_expected": ("按进度应达放款(元)", "money"),
    "leverage_shortfall": ("进度缺口(元)", "money"),
    "leverage_progress": ("目标完成率", "rate"),
    "committed_lending": ("承诺放款额(元)", "money"),
    "treasury_contribution": ("财政出资(元)", "money"),
    "pool_balance": ("资金池余额(元)", "money"),
    "regions_covered": ("覆盖市(州)(个)", "count"),
    "sections_covered": ("覆盖行业门类(个)", "count"),
    "industries_covered": ("覆盖行业大类(个)", "count"),
    "banks_covered": ("放款银行(家)", "count"),
}

# Columns of a breakdown table (PDF, Excel, admin).
BREAKDOWN_COLUMNS = (
    "applicants", "borrowers", "private_borrowers", "loans", "principal", "outstanding_principal", "avg_rate",
    "effective_rate", "overdue_rate", "npl_rate", "claims_filed", "claims_paid_amount", "recoveries_net",
    "subsidies_paid_amount",
)
BANK_COLUMNS = (*BREAKDOWN_COLUMNS, "committed_lending", "leverage", "leverage_target", "leverage_shortfall")
SHORT_LABELS = {
    "applicants": "申请企业", "borrowers": "获贷企业", "private_borrowers": "民营", "loans": "笔数",
    "principal": "放款(万元)", "outstanding_principal": "余额(万元)", "avg_rate": "合同利率%",
    "effective_rate": "实际利率%", "overdue_rate": "逾期率%", "npl_rate": "不良率%", "claims_filed": "补偿申请",
    "claims_paid_amount": "已补偿(万元)", "recoveries_net": "追偿净额(万元)", "subsidies_paid_amount": "补贴(万元)",
    "committed_lending": "承诺(万元)", "leverage": "放大倍数", "leverage_target": "目标倍数",
    "leverage_shortfall": "缺口(万元)",
}


def label(metric: str) -> str:
    return METRICS.get(metric, (metric, ""))[0]


def kind(metric: str) -> str:
    return METRICS.get(metric, ("", "money"))[1]


def columns_for(dimension: str) -> tuple[str, ...]:
    return BANK_COLUMNS if dimension == "bank" else BREAKDOWN_COLUMNS

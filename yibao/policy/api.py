"""Policy operations: the quote (open to anyone: it needs no personal data) and the policy list."""

import datetime as dt
from typing import Annotated

from ninja import Field, Router, Schema, Status

from yibao.core.api_errors import FIELD_NAMES
from yibao.core.api_types import ErrorOut, IsoDate, Money
from yibao.core.inputs import MAX_GAP_YEARS
from yibao.policy.engine import PolicyInputError
from yibao.policy.loader import PolicyFileError, PolicyNotFound, load_policy
from yibao.policy.selectors import policy_list, policy_summary, quote_for, quote_json
from yibao.policy.vocabulary import UnknownTerm

router = Router(tags=["缴费政策"])

FIELD_NAMES.update({
    "policy": "政策编号", "birth_date": "出生日期", "paid_on": "缴费日期", "identities": "资助身份",
    "group": "参保群体", "event_date": "事件日期", "tier": "缴费档次", "gap_years": "断保年数",
    "backpaid_years": "补缴年数", "household_role": "家庭角色",
    "first_time": "首次参保", "employee_months": "职工医保缴费月数", "household_enrolled": "同户家庭成员参保",
    "identity_since": "身份认定日期",
})


class QuoteIn(Schema):
    policy: str = Field(..., max_length=100, description="政策编号，如 anhui-huaiyuan-2025", examples=["anhui-huaiyuan-2025"])
    birth_date: IsoDate = Field(..., description="出生日期")
    paid_on: IsoDate = Field(..., description="缴费日期")
    identities: list[Annotated[str, Field(max_length=50)]] = Field([], max_length=20, description="资助身份：词汇表代码或名称，如 dibao、低保对象")
    group: str | None = Field(None, max_length=40, description="参保群体代码，如 newborn、migrant_worker")
    event_date: IsoDate | None = Field(None, description="事件日期：刑满释放、退役、职工医保停保、毕业")
    tier: int = Field(1, ge=1, le=9, description="缴费档次 1 或 2")
    gap_years: int = Field(0, ge=0, le=MAX_GAP_YEARS, description="参保前连续断保年数")
    backpaid_years: int = Field(0, ge=0, le=MAX_GAP_YEARS, description="补缴的断保年数")
    household_role: str | None = Field(None, max_length=20, description="家庭角色 child 或 parent")
    first_time: bool = Field(False, description="首次参保（此前从未在本县参保）；续保为 false")
    employee_months: int | None = Field(
        None, ge=0, le=12, description="政策所问年度的职工医保缴费月数（如“2025年职工医保缴费月份不少于3个月”）；不填为不清楚")
    household_enrolled: bool | None = Field(
        None, description="同户其他家庭成员已参加本年度居民医保（如“父母有一方在我镇参保的可免交”）；不填为不清楚")
    identity_since: dict[Annotated[str, Field(max_length=50)], IsoDate] = Field(
        {}, max_length=20, description="资助身份的认定（起始）日期，如 {\"dibao\": \"2026-02-01\"}；不填视为早已认定")


class QuoteOut(Schema):
    policy: str
    accepted: bool
    reason: str | None
    standard: Money
    subsidy: Money
    payable: Money
    refund_later: Money
    subsidy_identity: str | None
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    explanation: list[str]
    policy_version: str
    rule: str | None
    waiting_months: int
    waiting_days: int


class PolicyOut(Schema):
    id: str
    title: str
    locality: str
    region_prefix: str
    benefit_year: int
    collection_start: dt.date
    collection_end: dt.date
    days_of_month: str | None
    tiers: list[int]
    version: str


@router.post("/quote", auth=None, response={200: QuoteOut, 400: ErrorOut, 404: ErrorOut}, summary="缴费测算")
def quote_endpoint(request, payload: QuoteIn):
    """该缴多少、资助多少、先缴后补退多少、何时起享受待遇，逐条说明依据。不予受理时 accepted 为 false 并给出原因。"""
    try:
        result = quote_for(
            policy_id=payload.policy,
            birth_date=payload.birth_date,
            paid_on=payload.paid_on,
            identities=payload.identities,
            group=payload.group,
            event_date=payload.event_date,
            tier=payload.tier,
            gap_years=payload.gap_years,
            backpaid_years=payload.backpaid_years,
            household_role=payload.household_role,
            first_time=payload.first_time,
            employee_months=payload.employee_months,
            household_enrolled=payload.household_enrolled,
            identity_since=payload.identity_since,
        )
    except PolicyNotFound as exc:
        return Status(404, {"detail": str(exc).strip("'\"")})
    except (UnknownTerm, PolicyInputError, PolicyFileError) as exc:
        return Status(400, {"detail": str(exc)})
    return Status(200, quote_json(result))


@router.get("/policies", auth=None, response=list[PolicyOut], summary="政策列表")
def policies_endpoint(request):
    return policy_list()


@router.get("/policies/{policy_id}", auth=None, response={200: dict, 404: ErrorOut}, summary="政策详情")
def policy_endpoint(request, policy_id: str):
    """完整的政策内容：每个数值都附通知原文（reference）。"""
    try:
        policy = load_policy(policy_id)
    except PolicyNotFound as exc:
        return Status(404, {"detail": str(exc).strip("'\"")})
    return Status(200, {"summary": policy_summary(policy), "policy": policy.data.model_dump(mode="json")})


class PolicyCheckIn(Schema):
    file_name: str = Field(..., max_length=200, description="政策文件名 <政策编号>.yaml", examples=["anhui-huaiyuan-2026.yaml"])
    policy_yaml: str = Field(..., max_length=2_000_000, description="政策文件的内容（YAML 文本）")
    cases_yaml: str = Field(..., max_length=2_000_000, description="用例文件的内容（YAML 文本）")
    notice_name: str | None = Field(None, max_length=200, description="通知原文文件名（与政策文件的 seed 一致）")
    notice_text: str | None = Field(None, max_length=2_000_000, description="通知原文（纯文本）；系统内置的通知可不传")


class IssueOut(Schema):
    line: int | None
    path: str
    message: str


class PolicyCheckOut(Schema):
    policy: str | None
    version: str | None
    valid: bool
    ok: bool
    error: str | None
    issues: list[IssueOut]
    warnings: list[IssueOut]
    cases: int
    failed: list[dict]


@router.post("/policy-check", response={200: PolicyCheckOut}, summary="校验政策文件")
def policy_check_endpoint(request, payload: PolicyCheckIn):
    """校验一份政策文件并运行其用例（不安装）。每条错误带行号（line）、位置（path）和中文原因（message）；
    warnings 是通知清单中没写到的项和 review 中未删的待复核事项。需要“管理政策”的权限。"""
    import shutil

    from yibao.policy.services import policy_check_uploaded

    request.auth.require("policy.manage")
    report, path = policy_check_uploaded(
        policy_bytes=payload.policy_yaml.encode("utf-8"), cases_bytes=payload.cases_yaml.encode("utf-8"),
        policy_name=payload.file_name,
        notice_bytes=payload.notice_text.encode("utf-8") if payload.notice_text is not None else None,
        notice_name=payload.notice_name,
    )
    shutil.rmtree(path.parent, ignore_errors=True)
    return Status(200, {
        "policy": report.policy.id if report.policy else None,
        "version": report.policy.version if report.policy else None,
        "valid": report.policy is not None, "ok": report.ok, "error": report.error,
        "issues": [i.as_json() for i in report.issues], "warnings": [w.as_json() for w in report.warnings],
        "cases": len(report.results), "failed": [{"name": r.name, "failures": r.failures} for r in report.failed],
    })


@router.get("/policy-vocabulary", auth=None, response=dict, summary="政策词汇表")
def vocabulary_endpoint(request):
    """政策文件可用的资助身份、参保群体、条件、起算点、取值固定的设置和通知清单，附中文名、别名和例子。"""
    from yibao.policy.catalog import vocabulary

    return vocabulary()


@router.get("/policies/{before}/diff/{after}", auth=None, response={200: dict, 404: ErrorOut}, summary="比较两项政策")
def policy_diff_endpoint(request, before: str, after: str):
    """两项政策（如上一年与今年）的不同：金额、征缴期、资助、规则的增删改，每条附中文说明（text）。"""
    from yibao.policy.diff import policy_diff

    try:
        a, b = load_policy(before), load_policy(after)
    except PolicyNotFound as exc:
        return Status(404, {"detail": str(exc).strip("'\"")})
    return Status(200, {"before": a.id, "after": b.id, "changes": [c.as_json() for c in policy_diff(a, b)]})

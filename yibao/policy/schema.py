"""The shape of a locality-year policy file, validated by pydantic on load.

Every value that comes from a notice carries `reference`: the sentence it was read from.
`source` says where the value comes from: the locality's notice, the national rule
(国办发〔2024〕38号 and the national yearly standards), or our interpretation where the
notice is silent or ambiguous (then `note` says why we chose it).

How the validator tells an unmarked interpretation (each is refused with a Chinese message):
- `source: notice`: every sentence of `reference` (split at 。 and at ……, ignoring whitespace)
  must occur in the notice's own text (the file named by `seed`); `source: national`: in the
  national rules Yibao holds (notices/national.txt), after an optional "<文号>：" prefix.
  The loader passes both texts as validation context.
- A rule that sets a waiting period, quoting a notice sentence that says nothing of 等待期.
- A rule whose `when` names a group (大学毕业生 …) that its notice sentence does not name.
- A subsidy whose age limit binds children only (`age_applies_to_role`): who is a child, and
  that a person of unknown household role keeps the subsidy at any age, is our reading.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from yibao.policy.vocabulary import (
    GROUP_ALIASES,
    CHECKLIST_ITEMS,
    GROUPS,
    IDENTITY_BY_CODE,
    unknown_groups_message,
    unknown_identities_message,
)

Source = Literal["notice", "national", "interpretation"]
POLICY_ID = re.compile(r"^[a-z]+-[a-z]+(-[a-z]+)?-(\d{4})$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normalize_text(text: str) -> str:
    """Notice text as the reference check reads it: without any whitespace."""
    return re.sub(r"\s+", "", text or "")


_DOCUMENT_PREFIX = re.compile(r"^[^：:，。]{0,20}〔\d{4}〕\d+号[：:]")


def quoted_sentences(reference: str) -> list[str]:
    """The pieces of a reference that must each occur in the source text: split at 。 and at the
    ellipsis (……) that marks left-out words; a national reference may open with "<文号>："."""
    text = _DOCUMENT_PREFIX.sub("", normalize_text(reference))
    pieces = re.split(r"……|…|\.\.\.|。", text)
    return [p.strip("，；：、,;:") for p in pieces if p.strip("，；：、,;:")]


def unquoted(reference: str, source_text: str) -> list[str]:
    return [p for p in quoted_sentences(reference) if p not in source_text]


class Cited(Strict):
    reference: str = Field(min_length=2)
    source: Source = "notice"
    note: str | None = None

    @model_validator(mode="after")
    def _interpretations_say_why(self, info: ValidationInfo):
        if self.source == "interpretation" and not self.note:
            raise ValueError("source: interpretation 必须在 note 中说明理由")
        texts = info.context or {}
        if self.source in ("notice", "national") and texts.get(self.source) is not None:
            missing = unquoted(self.reference, texts[self.source])
            if missing:
                where = "通知原文" if self.source == "notice" else "本系统所据的国家规定（notices/national.txt）"
                raise ValueError(
                    f"引用“{missing[0][:60]}”不见于{where}：超出原文的取值须标 source: interpretation 并在 note 中说明理由"
                )
        return self

    def _must_be_marked(self, what: str, hint: str = "") -> None:
        if self.source == "notice":
            raise ValueError(
                f"{what}：所引原文没有这样写{hint}，须标 source: interpretation（或国家规定 national）并在 note 中说明理由")


def _group_names(code: str) -> set[str]:
    return {GROUPS[code]} | {alias for alias, target in GROUP_ALIASES.items() if target == code}


def _check_identities(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if c not in IDENTITY_BY_CODE]
    if unknown:
        raise ValueError(unknown_identities_message(unknown))
    return codes


def _check_groups(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if c not in GROUPS]
    if unknown:
        raise ValueError(unknown_groups_message(unknown))
    return codes


class Locality(Strict):
    province: str
    city: str | None = None
    county: str | None = None
    township: str | None = None
    region_prefix: str = Field(pattern=r"^\d{4}(\d{2})?$", description="区划代码前缀：市4位或县6位")


class Standard(Cited):
    """A yearly personal contribution (个人缴费标准) for a tier, optionally for some groups only."""

    tier: int = Field(1, ge=1, le=2)
    amount: Decimal = Field(gt=0)
    groups: list[str] = []
    label: str

    _groups = field_validator("groups")(_check_groups)


class FiscalSubsidy(Cited):
    amount: Decimal = Field(gt=0)
    split: dict[str, Decimal] = {}

    @model_validator(mode="after")
    def _split_adds_up(self):
        if self.split and sum(self.split.values()) != self.amount:
            raise ValueError(f"财政补助分项之和 {sum(self.split.values())} 不等于 {self.amount}")
        return self


class Amount(Cited):
    amount: Decimal


class Contribution(Strict):
    standards: list[Standard] = Field(min_length=1)
    fiscal_subsidy: FiscalSubsidy | None = None
    total: Amount | None = None

    @model_validator(mode="after")
    def _consistent(self):
        general = [s for s in self.standards if not s.groups]
        if not any(s.tier == 1 for s in general):
            raise ValueError("缺少一档（tier 1）个人缴费标准")
        seen = set()
        for s in self.standards:
            key = (s.tier, tuple(sorted(s.groups)))
            if key in seen:
                raise ValueError(f"重复的缴费标准：{s.label}")
            seen.add(key)
        if self.total is not None:
            if self.fiscal_subsidy is None:
                raise ValueError("给出筹资总额时必须给出财政补助标准")
            tier1 = next(s.amount for s in general if s.tier == 1)
            if tier1 + self.fiscal_subsidy.amount != self.total.amount:
                raise ValueError(
                    f"筹资总额 {self.total.amount} 不等于个人缴费 {tier1} 与财政补助 {self.fiscal_subsidy.amount} 之和"
                )
        return self

    def tiers(self) -> set[int]:
        return {s.tier for s in self.standards}


class AgeBand(Strict):
    """Age in full years: `min` inclusive (60岁以上 → min 60), `below` exclusive (未成年 → below 18)."""

    min: int | None = Field(None, ge=0)
    below: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _not_empty(self):
        if self.min is None and self.below is None:
            raise ValueError("年龄条件至少要有 min 或 below")
        return self


class SubsidyItem(Cited):
    """One subsidy by identity: full (全额), a fixed amount (定额) or a percent of the standard."""

    identities: list[str] = Field(min_length=1)
    label: str
    kind: Literal["full", "fixed", "percent"]
    amount: Decimal | None = None
    percent: Decimal | None = Field(None, gt=0, le=100)
    base: Decimal | None = Field(None, gt=0, description="按此基数计算百分比，而不是当年缴费标准")
    stated_amount: Decimal | None = Field(None, description="通知中写明的金额，用于核对计算结果")
    timing: Literal["now", "refund_later"] = "now"
    age_any_of: list[AgeBand] = []
    age_applies_to_role: Literal["child"] | None = None
    requires_any_of: list[str] = Field(
        [], description="只有同时持有其中一种身份时才适用（如“纳入低收入人口监测的”事实无人抚养儿童）"
    )
    recognised_from: dt.date | None = Field(
        None, description="身份认定日期（名单的起始日期）不早于此日的才资助；起始日期不明的视为早已认定，不符合"
    )
    recognised_to: dt.date | None = Field(
        None,
        description="身份认定日期不晚于此日的才资助，如“在集中参保缴费期外动态新增的困难对象，纳入下一年度资助范围”"
        "写征缴期截止日；起始日期不明的视为早已认定，符合",
    )

    _identities = field_validator("identities")(_check_identities)
    _requires = field_validator("requires_any_of")(_check_identities)

    @model_validator(mode="after")
    def _kind_fields(self):
        if self.kind == "fixed" and self.amount is None:
            raise ValueError(f"{self.label}：定额资助需要 amount")
        if self.kind == "percent" and self.percent is None:
            raise ValueError(f"{self.label}：按比例资助需要 percent")
        if self.kind != "fixed" and self.amount is not None:
            raise ValueError(f"{self.label}：只有定额资助写 amount")
        if self.kind != "percent" and (self.percent is not None or self.base is not None):
            raise ValueError(f"{self.label}：只有按比例资助写 percent / base")
        if self.age_applies_to_role and not self.age_any_of:
            raise ValueError(f"{self.label}：age_applies_to_role 需要 age_any_of")
        if self.age_applies_to_role:
            self._must_be_marked(f"{self.label}：年龄限制只约束子女、家庭角色不明的人不限年龄")
        if self.recognised_from and self.recognised_to and self.recognised_from > self.recognised_to:
            raise ValueError(f"{self.label}：recognised_from {self.recognised_from} 晚于 recognised_to {self.recognised_to}")
        return self


class Subsidies(Strict):
    single_highest: Cited | None = Field(
        None, description="多重身份只按一种资助（就高不就低）的原文；有两项以上资助时必写，通知没有资助的可不写")
    items: list[SubsidyItem] = []
    age_reference: Literal["paid_on", "year_start"] = "paid_on"
    age_reference_note: str | None = None
    deferred: Cited | None = Field(None, description="通知未列明资助标准、另按相关文件执行时的原文")

    @model_validator(mode="after")
    def _each_identity_once(self):
        if self.single_highest is None and len(self.items) > 1:
            raise ValueError("有两项以上资助时须写 single_highest（多重身份只按一种资助、就高不就低的原文）")
        seen: dict[str, str] = {}
        for item in self.items:
            for code in item.identities:
                if code in seen:
                    raise ValueError(f"身份 {code} 同时出现在“{seen[code]}”和“{item.label}”中")
                seen[code] = item.label
        return self


class DayRange(Strict):
    first: int = Field(ge=1, le=31)
    last: int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _ordered(self):
        if self.first > self.last:
            raise ValueError(f"每月缴费日的首日 {self.first} 晚于末日 {self.last}")
        return self


class MonthDays(DayRange):
    """Days of some calendar months (“9-11月1-25日，12月1-28日”)."""

    months: list[int] = Field(min_length=1, description="适用的月份，如 [9, 10, 11]")

    @field_validator("months")
    @classmethod
    def _calendar_months(cls, months: list[int]) -> list[int]:
        wrong = [m for m in months if not 1 <= m <= 12]
        if wrong:
            raise ValueError(f"月份只能是1至12，{wrong[0]}不是月份")
        return months


def _months_between(start: dt.date, end: dt.date) -> list[int]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class Window(Cited):
    start: dt.date
    end: dt.date
    days_of_month: DayRange | None = None
    days_by_month: list[MonthDays] | None = Field(
        None, min_length=1, description="各月缴费日不同时分月写，如 [{months: [9, 10, 11], first: 1, last: 25}, "
        "{months: [12], first: 1, last: 28}]；与“每月缴费日”只写一个")

    @model_validator(mode="after")
    def _ordered(self):
        if self.start > self.end:
            raise ValueError(f"征缴期起始日 {self.start} 晚于截止日 {self.end}")
        if self.days_by_month is not None:
            if self.days_of_month is not None:
                raise ValueError("“每月缴费日”和“分月缴费日”只能写一个")
            seen: set[int] = set()
            for days in self.days_by_month:
                twice = sorted(seen & set(days.months))
                if twice:
                    raise ValueError(f"{twice[0]}月在“分月缴费日”中写了两次")
                seen |= set(days.months)
            missing = [m for m in dict.fromkeys(_months_between(self.start, self.end)) if m not in seen]
            if missing:
                raise ValueError(f"征缴期包括{'、'.join(f'{m}月' for m in missing)}，“分月缴费日”没有写它的缴费日")
        return self

    def days_for(self, day: dt.date) -> DayRange | None:
        """The days of `day`'s month on which payments are taken; None when the notice limits none
        (or, with days by month, names no days for that month: it lies outside the window)."""
        if self.days_by_month is None:
            return self.days_of_month
        return next((days for days in self.days_by_month if day.month in days.months), None)

    def takes_day(self, day: dt.date) -> bool:
        """Whether the notice's days of the month allow `day` (the start and end are not looked at)."""
        days = self.days_for(day)
        if days is None:
            return self.days_by_month is None  # by month, a month without days takes none
        return days.first <= day.day <= days.last

    def open_on(self, day: dt.date) -> bool:
        return self.start <= day <= self.end and self.takes_day(day)

    def days_text(self) -> str | None:
        """“每月1日至25日” or “9月、10月、11月每月1日至25日，12月1日至28日”."""
        if self.days_by_month is not None:
            parts = []
            for days in self.days_by_month:
                months = "、".join(f"{m}月" for m in days.months)
                parts.append(f"{months}{'每月' if len(days.months) > 1 else ''}{days.first}日至{days.last}日")
            return "，".join(parts)
        if self.days_of_month is not None:
            return f"每月{self.days_of_month.first}日至{self.days_of_month.last}日"
        return None


class Refusal(Cited):
    reason: str


class Collection(Strict):
    main_window: Window
    late_refusal: Refusal


class IntRange(Strict):
    min: int | None = None
    max: int | None = None


class EmployeeMonths(Strict):
    """Months paid into 职工医保 in one calendar year (“2025年职工医保缴费月份不少于3个月”)."""

    year: int = Field(ge=2000, le=2100, description="职工医保缴费年度")
    min: int | None = Field(None, ge=0, le=12, description="缴费月数不少于")
    max: int | None = Field(None, ge=0, le=12, description="缴费月数不多于（“少于3个月”写 max: 2）")

    @model_validator(mode="after")
    def _bounded(self):
        if self.min is None and self.max is None:
            raise ValueError("职工医保缴费月数条件至少要有 min 或 max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"职工医保缴费月数 min {self.min} 大于 max {self.max}")
        return self


class Condition(Strict):
    """All given fields must hold (AND); `any_of` holds when one of its conditions does."""

    paid_from: dt.date | None = None
    paid_to: dt.date | None = None
    paid_in_main_window: bool | None = None
    groups: list[str] | None = None
    identities: list[str] | None = None
    born_in_benefit_year: bool | None = None
    days_since_birth: IntRange | None = None
    age_below_years: int | None = None
    has_event_date: bool | None = None
    days_since_event: IntRange | None = None
    gap_years: IntRange | None = None
    renewing: bool | None = Field(None, description="续保：上年在本县参保（不是首次参保，也未断保）")
    event_from: dt.date | None = Field(None, description="事件日期（断保、退役、毕业等）不早于此日，如“2025年10月1日后断保”")
    event_to: dt.date | None = Field(None, description="事件日期不晚于此日")
    within_months_of_event: int | None = Field(
        None, ge=1, le=120, description="事件后N个月内缴费：缴费日不晚于事件日期N个月后的同日，如“断保且在3个月内参加”写 3"
    )
    after_months_of_event: int | None = Field(
        None, ge=1, le=120, description="事件后超过N个月缴费：缴费日晚于事件日期N个月后的同日"
    )
    employee_months: EmployeeMonths | None = Field(
        None, description="职工医保缴费月数，如“2025年职工医保缴费月份不少于3个月”；来自职工医保名单，测算时手填"
    )
    household_enrolled: bool | None = Field(
        None, description="同户有其他家庭成员已参加本待遇年度居民医保（如“父母有一方在我镇参保的可免交”）；来自本县参保记录"
    )
    any_of: list[Condition] | None = None

    @field_validator("groups")
    @classmethod
    def _groups(cls, v):
        return None if v is None else _check_groups(v)

    @field_validator("identities")
    @classmethod
    def _identities(cls, v):
        return None if v is None else _check_identities(v)

    @model_validator(mode="after")
    def _event_dates_ordered(self):
        if self.event_from and self.event_to and self.event_from > self.event_to:
            raise ValueError(f"事件日期条件 event_from {self.event_from} 晚于 event_to {self.event_to}")
        return self

    def walk(self):
        """This condition and every condition nested in any_of."""
        yield self
        for sub in self.any_of or ():
            yield from sub.walk()

    def all_groups(self) -> set[str]:
        groups = set(self.groups or ())
        for sub in self.any_of or ():
            groups |= sub.all_groups()
        return groups


class BenefitStart(Strict):
    anchor: Literal["year_start", "paid_on", "birth_date", "event_date", "next_month_first", "date"] = Field(
        description="待遇起始日的锚点：年度首日、缴费日、出生日、事件日、缴费次月1日，或 date（固定日期，写在 date 中）"
    )
    days: int = Field(0, description="锚点之后加的天数")
    months: int = Field(0, description="锚点之后加的月数")
    date: dt.date | None = Field(
        None, description="anchor: date 时的固定起始日，如“2025年9月1日至2026年12月31日”写 2025-09-01；可早于年度首日"
    )

    @model_validator(mode="after")
    def _fixed_date(self):
        if self.anchor == "date":
            if self.date is None:
                raise ValueError("anchor: date 需要写固定起始日 date")
            if self.days or self.months:
                raise ValueError("anchor: date 是固定日期，不能再加 days 或 months")
        elif self.date is not None:
            raise ValueError("只有 anchor: date 才写 date")
        return self


class Rule(Cited):
    """An enrollment rule. Rules are tried in order; the first whose `when` holds decides."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str
    when: Condition
    outcome: Literal["accept", "refuse"] = "accept"
    refuse_reason: str | None = None
    start: BenefitStart | None = None
    allow_before_year_start: bool = False
    charge: Literal["standard", "exempt", "standard_plus_fiscal"] = "standard"
    waiting_period: Literal["none", "always", "if_gap"] = "none"

    @model_validator(mode="after")
    def _outcome_fields(self):
        if self.outcome == "refuse" and not self.refuse_reason:
            raise ValueError(f"规则 {self.id}：拒绝规则需要 refuse_reason")
        if self.outcome == "accept" and self.start is None:
            raise ValueError(f"规则 {self.id}：受理规则需要 start（待遇起始日）")
        if self.waiting_period != "none" and "等待期" not in self.reference:
            self._must_be_marked(f"规则 {self.id} 设待遇等待期")
        unnamed = sorted(g for g in self.when.all_groups() if not any(n in normalize_text(self.reference)
                                                                     for n in _group_names(g)))
        if unnamed:
            names = "；".join(f"{GROUPS[g]}可认作：{'、'.join(sorted(_group_names(g)))}" for g in unnamed)
            self._must_be_marked(f"规则 {self.id} 适用于{'、'.join(GROUPS[g] for g in unnamed)}",
                                 f"（所引原文须写到其中一个叫法，{names}）")
        return self


class WaitingFloor(Cited):
    """A floor on the waiting period after long broken coverage, cited on its own."""

    gap_years: int = Field(ge=1)
    months: int = Field(ge=0)


class WaitingPeriod(Cited):
    """国办发〔2024〕38号: a fixed waiting period (in months, or in days where the notice counts days),
    plus a month per extra year of broken coverage."""

    fixed_months: int | None = Field(None, ge=0, description="固定待遇等待期（月）；与 fixed_days 二选一")
    fixed_days: int | None = Field(
        None, ge=1, le=366, description="固定待遇等待期（天），如“固定待遇等待期3个月（按90天计算）”写 90；与 fixed_months 二选一"
    )
    extra_months_per_gap_year: int = Field(ge=0)
    reduce_months_per_backpaid_year: int = Field(ge=0)
    floor: WaitingFloor | None = None
    max_months: int | None = Field(None, ge=0)
    exempt_groups: list[str] = []

    _groups = field_validator("exempt_groups")(_check_groups)

    @model_validator(mode="after")
    def _months_or_days(self):
        if (self.fixed_months is None) == (self.fixed_days is None):
            raise ValueError("固定待遇等待期须写 fixed_months（月）或 fixed_days（天）之一")
        if self.fixed_days is not None and (self.floor is not None or self.max_months is not None):
            raise ValueError("固定待遇等待期按天计算时，不能再设按月的下限 floor 或上限 max_months")
        return self


RefundReason = Literal["death", "duplicate_payment", "joined_employee_insurance", "joined_other_city_insurance"]


class Refunds(Cited):
    allowed_reasons: list[RefundReason] = Field(min_length=1)
    before_benefit_start_only: bool = True


class Targets(Cited):
    enrollment_rate: Decimal | None = Field(None, gt=0, le=1)
    special_groups_rate: Decimal | None = Field(None, gt=0, le=1)
    deadline: dt.date | None = None
    reconcile_per_month: int | None = Field(None, ge=1)
    publish_every_days: int | None = Field(None, ge=1)
    report_every_days: int | None = Field(None, ge=1)


ENROLLEE_KINDS: dict[str, str] = {
    "local_hukou": "本地户籍的城乡居民",
    "long_term_resident": "在本地长期居住或流动就业、在原籍未参保的人员及其未成年子女",
    "student": "在校学生和在园幼儿",
    "hmt_resident": "持港澳台居民居住证的未就业港澳台居民",
    "foreign_expert_family": "随在本地工作的外籍专家共同生活的配偶及未成年子女",
    "all_residents": "辖区内除职工医保应参保人员以外的所有城乡居民",
}

SUSPENSION_REASONS: dict[str, str] = {
    "employment": "就业", "school": "入学", "military": "入伍", "marriage": "婚嫁", "death": "死亡",
}


class EnrolleeKind(Cited):
    kind: Literal[tuple(ENROLLEE_KINDS)]  # type: ignore[valid-type]
    label: str


class Enrollees(Cited):
    """参保对象: who may enroll here. Registration (not the quote) acts on it."""

    hukou_required: bool = Field(description="false：不受户籍限制")
    kinds: list[EnrolleeKind] = Field(min_length=1)
    used_by: str | None = None


class Suspension(Cited):
    """The duty to suspend or end cover here when a person's situation changes."""

    reasons: list[Literal[tuple(SUSPENSION_REASONS)]] = Field(min_length=1)  # type: ignore[valid-type]
    used_by: str | None = None


class Note(Cited):
    """A sentence of the notice that is not a quote rule; `used_by` says which part of Yibao acts on it."""

    topic: str
    used_by: str | None = None


class ChecklistSkip(Strict):
    """A checklist item this notice does not cover, and why; silences its warning in `policy check`."""

    item: Literal[tuple(CHECKLIST_ITEMS)]  # type: ignore[valid-type]
    reason: str = Field(min_length=2, description="为什么不适用，如“通知未规定征缴期外参保”")


class PolicyFile(Strict):
    id: str
    title: str
    locality: Locality
    benefit_year: int = Field(ge=2020, le=2100)
    notice_year: int = Field(ge=2019, le=2100)
    issued_by: str
    issued_on: dt.date | None = None
    seed: str | None = None
    contribution: Contribution
    subsidies: Subsidies = Field(default_factory=Subsidies, description="资助；通知没有写资助的可不写（并在 checklist 中说明）")
    collection: Collection
    rules: list[Rule] = Field(min_length=1)
    waiting_period: WaitingPeriod | None = None
    refunds: Refunds | None = None
    targets: Targets | None = None
    enrollees: Enrollees | None = None
    suspension: Suspension | None = None
    notes: list[Note] = []
    checklist: list[ChecklistSkip] = Field([], description="通知没有涉及的清单项及理由（不再提醒）")
    review: list[str] = Field([], description="待复核事项：yibao policy new 写入，核对后删去；未删时校验提醒")

    @model_validator(mode="after")
    def _consistent(self):
        match = POLICY_ID.match(self.id)
        if not match:
            raise ValueError(f"政策编号 {self.id} 应为 <省>-<县>[-<乡镇>]-<待遇年度>，拼音小写")
        if int(match.group(2)) != self.benefit_year:
            raise ValueError(f"政策编号 {self.id} 的年度与 benefit_year {self.benefit_year} 不一致")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            repeated = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"规则 id 重复：{repeated}")
        waiting = [r.id for r in self.rules if r.waiting_period != "none"]
        if waiting and self.waiting_period is None:
            raise ValueError(f"规则 {waiting[0]} 使用等待期，但文件没有 waiting_period")
        years = {c.employee_months.year for c in self.conditions() if c.employee_months is not None}
        if len(years) > 1:
            raise ValueError(f"职工医保缴费月数条件只能针对一个年度，文件写了{'、'.join(map(str, sorted(years)))}年")
        for item in self.subsidies.items:
            if item.stated_amount is not None:
                base = item.base if item.base is not None else self.tier1_standard()
                computed = subsidy_amount(item, base)
                if computed != item.stated_amount:
                    raise ValueError(f"{item.label}：按规则计算为 {computed} 元，通知写明 {item.stated_amount} 元")
        return self

    def conditions(self):
        """Every condition of every rule, nested ones included."""
        for rule in self.rules:
            yield from rule.when.walk()

    def employee_months_year(self) -> int | None:
        """The year whose 职工医保 months the rules ask about (the registry supplies that year's)."""
        return next((c.employee_months.year for c in self.conditions() if c.employee_months is not None), None)

    def uses_recognition_dates(self) -> bool:
        return any(i.recognised_from or i.recognised_to for i in self.subsidies.items)

    def tier1_standard(self) -> Decimal:
        return next(s.amount for s in self.contribution.standards if s.tier == 1 and not s.groups)


CENT = Decimal("0.01")


def subsidy_amount(item: SubsidyItem, standard: Decimal) -> Decimal:
    """The subsidy an item gives against a personal standard, never more than the standard."""
    from decimal import ROUND_HALF_UP

    if item.kind == "full":
        value = standard
    elif item.kind == "fixed":
        value = item.amount
    else:
        base = item.base if item.base is not None else standard
        value = (base * item.percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(value, standard)

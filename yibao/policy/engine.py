"""The policy engine: for a person, a policy and a payment date, what is owed and when cover runs.

Pure Python, no ORM, Decimal money. Every number and date comes from the policy file; the code
only knows how to read conditions, pick the single highest subsidy and count dates.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from yibao.policy.schema import CENT, Condition, PolicyFile, Rule, Standard, SubsidyItem, subsidy_amount
from yibao.policy.vocabulary import GROUPS, IDENTITY_BY_CODE, group_name, identity_name

ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


class PolicyInputError(ValueError):
    """Bad input for a quote (unknown tier, dates in the wrong order ...); the message is Chinese."""


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy file and the version (hash) of its bytes."""

    data: PolicyFile
    version: str
    path: str = ""

    @property
    def id(self) -> str:
        return self.data.id

    @property
    def year_start(self) -> dt.date:
        return dt.date(self.data.benefit_year, 1, 1)

    @property
    def year_end(self) -> dt.date:
        return dt.date(self.data.benefit_year, 12, 31)


@dataclass(frozen=True)
class Person:
    birth_date: dt.date
    identities: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    event_date: dt.date | None = None
    tier: int = 1
    gap_years: int = 0
    backpaid_years: int = 0
    household_role: str | None = None  # "child" or "parent", when the registry knows it
    first_time: bool = False  # 首次参保: never covered in this county before (then gap_years is 0)
    newborn_by_birth: bool = False  # in 新生儿 by the birth date, no group fact (yibao.policy.facts)
    identity_since: tuple[tuple[str, dt.date], ...] = ()  # (code, 起始日期) of identities whose start is known
    employee_months: int | None = None  # months paid into 职工医保 in the year the policy asks; None: unknown
    household_enrolled: bool | None = None  # another household member enrolled this benefit year; None: unknown

    def identity_start(self, code: str) -> dt.date | None:
        return next((day for c, day in self.identity_since if c == code), None)

    @property
    def renewing(self) -> bool:
        """续保: covered last year (not a first enrollment, no gap)."""
        return not self.first_time and self.gap_years == 0


def identity_since_text(pairs) -> str | None:
    """(code, start) pairs as one sortable text, "dibao:2025-03-01,tekun:2024-01-05" (bulk keys, frames)."""
    text = ",".join(f"{code}:{day.isoformat()}" for code, day in sorted(pairs) if day is not None)
    return text or None


def parse_identity_since(text: str | None) -> tuple[tuple[str, dt.date], ...]:
    if not text:
        return ()
    pairs = (item.split(":", 1) for item in text.split(","))
    return tuple(sorted((code, dt.date.fromisoformat(day)) for code, day in pairs))


@dataclass(frozen=True)
class Quote:
    accepted: bool
    reason: str | None
    standard: Decimal
    subsidy: Decimal
    payable: Decimal
    refund_later: Decimal
    subsidy_identity: str | None
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    explanation: tuple[str, ...]
    policy_id: str
    policy_version: str
    rule: str | None = None
    waiting_months: int = 0
    waiting_days: int = 0

    def as_dict(self) -> dict:
        out = asdict(self)
        out["explanation"] = list(self.explanation)
        return out


# ---------------------------------------------------------------- small helpers


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_money(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value)}元"
    return f"{value.normalize():f}元"


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on `day` (a person born on 29 Feb turns a year older on 1 Mar)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def cite(item) -> str:
    """The 依据 of a sentence: the quoted notice text, marked national or explained where needed."""
    if item.source == "national":
        text = f"依据国家规定：“{item.reference}”"
    else:
        text = f"依据：“{item.reference}”"
    if item.source == "interpretation" and item.note:
        text += f"；本系统的理解：{item.note}"
    elif item.source == "national" and item.note:
        text += f"；本地执行：{item.note}"  # how the county applies the national rule
    return f"（{text}）"


@dataclass
class _Context:
    policy: Policy
    person: Person
    paid_on: dt.date
    days_since_birth: int = 0
    age_at_payment: int = 0
    age_for_subsidy: int = 0
    explanation: list[str] = field(default_factory=list)

    def say(self, title: str, text: str, item=None) -> None:
        self.explanation.append(f"【{title}】{text}{cite(item) if item is not None else ''}")


# ---------------------------------------------------------------- validation of the input


def check_person(policy: Policy, person: Person, paid_on: dt.date) -> None:
    data = policy.data
    if person.tier not in data.contribution.tiers():
        tiers = "、".join(f"{t}档" for t in sorted(data.contribution.tiers()))
        raise PolicyInputError(f"政策 {data.id} 只设{tiers}缴费标准，没有{person.tier}档")
    unknown = sorted(i for i in person.identities if i not in IDENTITY_BY_CODE)
    if unknown:
        raise PolicyInputError(f"未知的资助身份代码：{'、'.join(unknown)}")
    unknown = sorted(g for g in person.groups if g not in GROUPS)
    if unknown:
        raise PolicyInputError(f"未知的参保群体代码：{'、'.join(unknown)}")
    if person.birth_date > paid_on:
        raise PolicyInputError(f"出生日期 {person.birth_date} 晚于缴费日期 {paid_on}")
    if person.event_date is not None and person.event_date > paid_on:
        raise PolicyInputError(f"事件日期 {person.event_date} 晚于缴费日期 {paid_on}")
    if person.gap_years < 0 or person.backpaid_years < 0:
        raise PolicyInputError("断保年数和补缴年数不能为负数")
    if person.backpaid_years > person.gap_years:
        raise PolicyInputError(f"补缴年数 {person.backpaid_years} 不能多于断保年数 {person.gap_years}")
    if person.first_time and (person.gap_years or person.backpaid_years):
        raise PolicyInputError("首次参保人员没有断保年数和补缴年数")
    if person.employee_months is not None and not 0 <= person.employee_months <= 12:
        raise PolicyInputError(f"职工医保缴费月数应为0至12，收到：{person.employee_months}")
    if person.household_role not in (None, "child", "parent"):
        raise PolicyInputError(f"家庭角色只能是 child（子女）或 parent（父母），收到：{person.household_role}")


# ---------------------------------------------------------------- conditions


def _in_range(value: int, bounds) -> bool:
    return (bounds.min is None or value >= bounds.min) and (bounds.max is None or value <= bounds.max)


def paid_in_main_window(policy: Policy, paid_on: dt.date) -> bool:
    return policy.data.collection.main_window.open_on(paid_on)


def _event_holds(cond: Condition, event: dt.date | None, paid_on: dt.date) -> bool:
    """event_from/event_to limit the event date; within/after_months_of_event count calendar months
    from it (3个月内: paid on or before the same day three months on)."""
    asked = (cond.event_from, cond.event_to, cond.within_months_of_event, cond.after_months_of_event)
    if all(value is None for value in asked):
        return True
    if event is None:
        return False
    if cond.event_from is not None and event < cond.event_from:
        return False
    if cond.event_to is not None and event > cond.event_to:
        return False
    if cond.within_months_of_event is not None and not paid_on <= add_months(event, cond.within_months_of_event):
        return False
    if cond.after_months_of_event is not None and not paid_on > add_months(event, cond.after_months_of_event):
        return False
    return True


def holds(cond: Condition, ctx: _Context) -> bool:
    person, paid_on = ctx.person, ctx.paid_on
    if cond.paid_from is not None and paid_on < cond.paid_from:
        return False
    if cond.paid_to is not None and paid_on > cond.paid_to:
        return False
    if cond.paid_in_main_window is not None and paid_in_main_window(ctx.policy, paid_on) != cond.paid_in_main_window:
        return False
    if cond.groups is not None and not (person.groups & set(cond.groups)):
        return False
    if cond.identities is not None and not (person.identities & set(cond.identities)):
        return False
    if cond.born_in_benefit_year is not None:
        if (person.birth_date.year == ctx.policy.data.benefit_year) != cond.born_in_benefit_year:
            return False
    if cond.days_since_birth is not None and not _in_range(ctx.days_since_birth, cond.days_since_birth):
        return False
    if cond.age_below_years is not None and not ctx.age_at_payment < cond.age_below_years:
        return False
    if cond.has_event_date is not None and (person.event_date is not None) != cond.has_event_date:
        return False
    if cond.days_since_event is not None:
        if person.event_date is None:
            return False
        if not _in_range((paid_on - person.event_date).days, cond.days_since_event):
            return False
    if cond.gap_years is not None and not _in_range(person.gap_years, cond.gap_years):
        return False
    if cond.renewing is not None and person.renewing != cond.renewing:
        return False
    if not _event_holds(cond, person.event_date, paid_on):
        return False
    if cond.employee_months is not None:
        months = person.employee_months
        if months is None or not _in_range(months, cond.employee_months):
            return False
    if cond.household_enrolled is not None and person.household_enrolled is not cond.household_enrolled:
        return False
    if cond.any_of is not None and not any(holds(sub, ctx) for sub in cond.any_of):
        return False
    return True


# ---------------------------------------------------------------- the parts of a quote


def personal_standard(policy: Policy, person: Person) -> Standard:
    standards = policy.data.contribution.standards
    for standard in standards:
        if standard.tier == person.tier and standard.groups and person.groups & set(standard.groups):
            return standard
    return next(s for s in standards if s.tier == person.tier and not s.groups)


def _age_allows(item: SubsidyItem, ctx: _Context) -> bool:
    if not item.age_any_of:
        return True
    if item.age_applies_to_role == "child" and ctx.person.household_role != "child":
        return True  # the age limit binds children only; parents (and unknown roles) keep the subsidy
    age = ctx.age_for_subsidy
    return any((band.min is None or age >= band.min) and (band.below is None or age < band.below) for band in item.age_any_of)


def _age_text(item: SubsidyItem) -> str:
    parts = []
    for band in item.age_any_of:
        if band.min is not None and band.below is not None:
            parts.append(f"{band.min}周岁至未满{band.below}周岁")
        elif band.min is not None:
            parts.append(f"{band.min}周岁及以上")
        else:
            parts.append(f"未满{band.below}周岁")
    return "或".join(parts)


def _recognised(item: SubsidyItem, start: dt.date | None) -> bool:
    """The identity's start date (认定日期) against the item's limits; an unknown start counts as long ago."""
    if item.recognised_from is not None and (start is None or start < item.recognised_from):
        return False
    return item.recognised_to is None or start is None or start <= item.recognised_to


def _recognised_text(item: SubsidyItem) -> str:
    if item.recognised_from and item.recognised_to:
        return f"{cn_date(item.recognised_from)}至{cn_date(item.recognised_to)}期间"
    if item.recognised_to:
        return f"{cn_date(item.recognised_to)}及以前"
    return f"{cn_date(item.recognised_from)}及以后"


def _since_text(person: Person, code: str) -> str:
    start = person.identity_start(code)
    if start is None:
        return f"{identity_name(code)}身份认定日期不明（视为早已认定）"
    return f"{identity_name(code)}身份自{cn_date(start)}起认定"


@dataclass(frozen=True)
class SubsidyChoice:
    item: SubsidyItem | None
    identity: str | None
    amount: Decimal


def choose_subsidy(policy: Policy, ctx: _Context, standard: Decimal) -> SubsidyChoice:
    """就高不就低、不重复资助: of all the identities the person holds, the single highest subsidy."""
    data = policy.data.subsidies
    person = ctx.person
    if not person.identities:
        return SubsidyChoice(None, None, ZERO)
    candidates: list[tuple[Decimal, int, int, SubsidyItem, str]] = []
    covered: set[str] = set()
    for order, item in enumerate(data.items):
        held = [code for code in item.identities if code in person.identities]
        if not held:
            continue
        covered.update(held)
        if item.requires_any_of and not person.identities & set(item.requires_any_of):
            names = "、".join(identity_name(code) for code in item.requires_any_of)
            ctx.say("资助条件", f"“{item.label}”须同时是{names}之一，参保人不是，不符合条件。", item)
            continue
        if item.recognised_from or item.recognised_to:
            recognised = [code for code in held if _recognised(item, person.identity_start(code))]
            if not recognised:
                ctx.say("资助条件", f"“{item.label}”资助限{_recognised_text(item)}认定的身份，参保人的"
                                    f"{_since_text(person, held[0])}，不符合条件。", item)
                continue
            held = recognised
        if not _age_allows(item, ctx):
            ctx.say(
                "资助条件",
                f"“{item.label}”资助限{_age_text(item)}，参保人{ctx.age_for_subsidy}周岁，不符合条件。",
                item,
            )
            continue
        amount = subsidy_amount(item, standard)
        immediate_first = 0 if item.timing == "now" else 1
        candidates.append((amount, immediate_first, order, item, held[0]))
    uncovered = sorted(person.identities - covered)
    if uncovered:
        names = "、".join(identity_name(code) for code in uncovered)
        if data.deferred is not None:
            ctx.say("资助标准", f"本通知未列明{names}的资助标准，按相关文件执行，此处暂不计资助。", data.deferred)
        else:
            ctx.say("资助标准", f"本政策对{names}身份未规定个人缴费资助。")
    if not candidates:
        return SubsidyChoice(None, None, ZERO)
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    amount, _, _, item, code = candidates[0]
    if item.recognised_from or item.recognised_to:
        ctx.say("身份认定日期", f"参保人的{_since_text(person, code)}，在{_recognised_text(item)}，符合“{item.label}”的资助条件。", item)
    if len(candidates) > 1:
        others = "、".join(c[3].label for c in candidates[1:])
        ctx.say(
            "就高不就低",
            f"参保人同时符合“{item.label}”和“{others}”，只按资助额最高的“{item.label}”资助{cn_money(amount)}，不重复资助。",
            data.single_highest,
        )
    return SubsidyChoice(item, code, amount)


def waiting_months(policy: Policy, person: Person) -> int:
    rule = policy.data.waiting_period
    variable = max(0, person.gap_years - 1) * rule.extra_months_per_gap_year
    variable = max(0, variable - person.backpaid_years * rule.reduce_months_per_backpaid_year)
    months = (rule.fixed_months or 0) + variable
    if rule.floor is not None and person.gap_years >= rule.floor.gap_years:
        months = max(months, rule.floor.months)
    if rule.max_months is not None:
        months = min(months, rule.max_months)
    return months


def _anchor_date(rule: Rule, ctx: _Context) -> dt.date:
    anchor = rule.start.anchor
    if anchor == "date":
        return rule.start.date
    if anchor == "year_start":
        base = ctx.policy.year_start
    elif anchor == "paid_on":
        base = ctx.paid_on
    elif anchor == "birth_date":
        base = ctx.person.birth_date
    elif anchor == "event_date":
        base = ctx.person.event_date
    else:  # next_month_first
        base = add_months(ctx.paid_on.replace(day=1), 1)
    return add_months(base, rule.start.months) + dt.timedelta(days=rule.start.days)


def _refusal_without_rule(policy: Policy, paid_on: dt.date) -> tuple[str, object]:
    window = policy.data.collection.main_window
    if paid_on < window.start:
        return f"征缴期尚未开始：{cn_date(window.start)}起方可缴费。", window
    if window.start <= paid_on <= window.end and not window.takes_day(paid_on):
        days = window.days_for(paid_on)
        which = "每月" if window.days_by_month is None else f"{paid_on.month}月"
        return f"征缴期内{which}{days.first}日至{days.last}日办理缴费，{paid_on.month}月{paid_on.day}日不受理。", window
    return policy.data.collection.late_refusal.reason, policy.data.collection.late_refusal


FACT_FIELDS = ("event_from", "event_to", "within_months_of_event", "after_months_of_event", "employee_months",
               "household_enrolled")


def _without_facts(cond: Condition) -> Condition:
    update = {name: None for name in FACT_FIELDS}
    if cond.any_of:
        update["any_of"] = [_without_facts(sub) for sub in cond.any_of]
    return cond.model_copy(update=update)


def _say_facts(rules: list[Rule], ctx: _Context) -> None:
    """Name the registry facts (event date, 职工医保 months, the household's enrollment) that decided
    among the rules tried: those of each rule whose other conditions hold, citing that rule."""
    person, paid_on, year = ctx.person, ctx.paid_on, ctx.policy.data.benefit_year
    said: set[str] = set()
    for rule in rules:
        if not holds(_without_facts(rule.when), ctx):
            continue
        for cond in rule.when.walk():
            months = [n for n in (cond.within_months_of_event, cond.after_months_of_event) if n is not None]
            if "event" not in said and (months or cond.event_from or cond.event_to):
                said.add("event")
                if person.event_date is None:
                    ctx.say("事件日期", "未提供事件日期，以事件日期为条件的规定不适用。", rule)
                else:
                    text = f"事件日期为{cn_date(person.event_date)}"
                    for n in months:
                        limit = add_months(person.event_date, n)
                        verdict = f"在{n}个月内" if paid_on <= limit else f"已超过{n}个月"
                        text += f"；事件后{n}个月为{cn_date(limit)}，缴费日{cn_date(paid_on)}{verdict}"
                    ctx.say("事件日期", text + "。", rule)
            if "employee" not in said and cond.employee_months is not None:
                said.add("employee")
                asked = cond.employee_months.year
                if person.employee_months is None:
                    ctx.say("职工医保缴费月数", f"未提供{asked}年职工医保缴费月数，以此为条件的规定不适用。", rule)
                else:
                    ctx.say("职工医保缴费月数", f"参保人{asked}年职工医保缴费{person.employee_months}个月。", rule)
            if "household" not in said and cond.household_enrolled is not None:
                said.add("household")
                if person.household_enrolled is None:
                    text = "未提供同户家庭成员的参保情况，以此为条件的规定不适用。"
                elif person.household_enrolled:
                    text = f"同户有其他家庭成员已参加{year}年度城乡居民医保。"
                else:
                    text = f"同户没有其他家庭成员参加{year}年度城乡居民医保。"
                ctx.say("家庭参保", text, rule)


# ---------------------------------------------------------------- the quote


def quote(policy: Policy, person: Person, paid_on: dt.date) -> Quote:
    check_person(policy, person, paid_on)
    data = policy.data
    ctx = _Context(policy=policy, person=person, paid_on=paid_on)
    ctx.days_since_birth = (paid_on - person.birth_date).days
    ctx.age_at_payment = age_on(person.birth_date, paid_on)
    age_day = paid_on if data.subsidies.age_reference == "paid_on" else policy.year_start
    ctx.age_for_subsidy = age_on(person.birth_date, age_day)

    if person.newborn_by_birth and "newborn" in person.groups:
        why = (f"在{data.benefit_year}年度出生" if person.birth_date.year == data.benefit_year
               else f"{cn_date(paid_on)}未满1周岁")
        ctx.say("参保群体", f"按出生日期认定为新生儿：{cn_date(person.birth_date)}出生，{why}，未登记参保群体也按新生儿测算。")
    standard_rule = personal_standard(policy, person)
    personal = standard_rule.amount
    ctx.say(
        "个人缴费标准",
        f"{data.benefit_year}年度{standard_rule.label}为{cn_money(personal)}。",
        standard_rule,
    )

    rule = next((r for r in data.rules if holds(r.when, ctx)), None)
    _say_facts(data.rules[: data.rules.index(rule) + 1] if rule is not None else list(data.rules), ctx)

    def refused(reason: str, cited, rule_id: str | None, standard: Decimal = personal) -> Quote:
        ctx.say("不予受理", reason, cited)
        return Quote(
            accepted=False, reason=reason, standard=money(standard), subsidy=ZERO, payable=ZERO, refund_later=ZERO,
            subsidy_identity=None, benefit_start=None, benefit_end=None, explanation=tuple(ctx.explanation),
            policy_id=data.id, policy_version=policy.version, rule=rule_id,
        )

    if rule is None:
        reason, cited = _refusal_without_rule(policy, paid_on)
        return refused(reason, cited, None)
    if rule.outcome == "refuse":
        return refused(rule.refuse_reason, rule, rule.id)

    # what the person owes before subsidy
    standard = personal
    if rule.charge == "exempt":
        standard = ZERO
        ctx.say(rule.label, f"免缴{data.benefit_year}年度个人参保费用。", rule)
    elif rule.charge == "standard_plus_fiscal":
        fiscal = data.contribution.fiscal_subsidy
        standard = personal + fiscal.amount
        ctx.say(
            rule.label,
            f"本次缴费不享受财政补助，须同时缴纳财政补助{cn_money(fiscal.amount)}，合计{cn_money(standard)}。",
            rule,
        )
        ctx.say("财政补助标准", f"{data.benefit_year}年度财政补助标准为{cn_money(fiscal.amount)}。", fiscal)

    # the single highest subsidy, now or refunded later (先缴后补)
    subsidy_now = subsidy_later = ZERO
    choice = SubsidyChoice(None, None, ZERO)
    if standard > 0:
        choice = choose_subsidy(policy, ctx, personal)
        if choice.item is not None:
            label = choice.item.label
            if choice.item.timing == "now":
                subsidy_now = choice.amount
                ctx.say(
                    "资助参保",
                    f"按“{label}”资助{cn_money(choice.amount)}，个人应缴{cn_money(standard - subsidy_now)}。",
                    choice.item,
                )
            else:
                subsidy_later = choice.amount
                ctx.say(
                    "先缴后补",
                    f"按“{label}”补贴{cn_money(choice.amount)}：须先按{cn_money(standard)}缴费，之后退补{cn_money(subsidy_later)}。",
                    choice.item,
                )

    # the benefit period
    start = _anchor_date(rule, ctx)
    if start < policy.year_start and not rule.allow_before_year_start and rule.start.anchor != "date":
        start = policy.year_start
    months = days = 0
    exempt = data.waiting_period is not None and person.groups & set(data.waiting_period.exempt_groups)
    if rule.waiting_period == "always" or (rule.waiting_period == "if_gap" and person.gap_years > 0):
        if exempt:
            ctx.say("待遇等待期", f"{group_name(sorted(exempt)[0])}不设待遇等待期。", data.waiting_period)
        else:
            months = waiting_months(policy, person)
            days = data.waiting_period.fixed_days or 0
            start = add_months(start + dt.timedelta(days=days), months)
            gap = f"，断保{person.gap_years}年" if person.gap_years else ""
            back = f"，补缴{person.backpaid_years}年" if person.backpaid_years else ""
            if days:
                extra = f"，另加变动待遇等待期{months}个月" if months else ""
                ctx.say("待遇等待期", f"设固定待遇等待期{days}天{extra}{gap}{back}。", data.waiting_period)
            else:
                ctx.say("待遇等待期", f"设待遇等待期{months}个月{gap}{back}。", data.waiting_period)
            floor = data.waiting_period.floor
            if floor is not None and person.gap_years >= floor.gap_years:
                ctx.say("待遇等待期下限", f"连续断保{floor.gap_years}年及以上，等待期不少于{floor.months}个月。", floor)
    if start > policy.year_end:
        return refused(
            f"按规定待遇应自{cn_date(start)}起享受，已晚于{data.benefit_year}年度末，本年度不再受理缴费。",
            rule,
            rule.id,
            standard,
        )
    ctx.say("待遇享受期", f"{rule.label}，待遇享受期为{cn_date(start)}至{cn_date(policy.year_end)}。", rule)

    return Quote(
        accepted=True,
        reason=None,
        standard=money(standard),
        subsidy=money(subsidy_now + subsidy_later),
        payable=money(standard - subsidy_now),
        refund_later=money(subsidy_later),
        subsidy_identity=choice.identity,
        benefit_start=start,
        benefit_end=policy.year_end,
        explanation=tuple(ctx.explanation),
        policy_id=data.id,
        policy_version=policy.version,
        rule=rule.id,
        waiting_months=months,
        waiting_days=days,
    )

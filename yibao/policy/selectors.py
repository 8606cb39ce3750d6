"""Reads of the policy area: quotes asked by people (codes or Chinese names), and policy summaries."""

from __future__ import annotations

import datetime as dt

from yibao.policy.engine import Person, Policy, PolicyInputError, Quote, quote
from yibao.policy.loader import list_policies, load_policy
from yibao.policy.vocabulary import group_code, identity_code


def check_gap_years(*, gap_years: int, backpaid_years: int, birth_date: dt.date, paid_on: dt.date) -> None:
    """Years without cover (and years paid back) can't be more than the years the person has lived."""
    lived = max(0, paid_on.year - birth_date.year)
    for value, label in ((gap_years, "断保年数"), (backpaid_years, "补缴年数")):
        if value < 0:
            raise PolicyInputError(f"{label}不能为负数，收到：{value}")
        if value > lived:
            raise PolicyInputError(
                f"{label} {value} 超过了参保人的年龄：{birth_date.isoformat()} 出生，到缴费日期 {paid_on.isoformat()} "
                f"最多 {lived} 年，请核对"
            )


def quote_for(
    *,
    policy_id: str,
    birth_date: dt.date,
    paid_on: dt.date,
    identities: list[str] | tuple[str, ...] = (),
    group: str | None = None,
    event_date: dt.date | None = None,
    tier: int = 1,
    gap_years: int = 0,
    backpaid_years: int = 0,
    household_role: str | None = None,
    first_time: bool = False,
    employee_months: int | None = None,
    household_enrolled: bool | None = None,
    identity_since: dict[str, dt.date] | None = None,
) -> Quote:
    """A quote from the words a person uses: identities and group by glossary code or alias.

    The registry facts some conditions ask about are options here: the months paid into 职工医保
    in the year the policy asks, whether another household member is enrolled this year, and the
    day each identity was recognised (身份认定日期; by code or name, one of `identities`).

    Raises PolicyNotFound, UnknownTerm or PolicyInputError, each with a Chinese message.
    """
    check_gap_years(gap_years=gap_years, backpaid_years=backpaid_years, birth_date=birth_date, paid_on=paid_on)
    from yibao.policy.facts import NEWBORN, newborn_by_birth

    policy = load_policy(policy_id)
    held = frozenset(identity_code(i) for i in identities if i and i.strip())
    since = []
    for name, day in (identity_since or {}).items():
        code = identity_code(name)
        if code not in held:
            raise PolicyInputError(f"写了“{name}”的身份认定日期，但没有选择该资助身份")
        if day > paid_on:
            raise PolicyInputError(f"“{name}”的身份认定日期 {day.isoformat()} 晚于缴费日期 {paid_on.isoformat()}，缴费时还不是该身份")
        since.append((code, day))
    groups = frozenset({group_code(group)} if group else ())
    by_birth = NEWBORN not in groups and newborn_by_birth(birth_date, paid_on, policy.data.benefit_year)
    person = Person(
        birth_date=birth_date,
        identities=held,
        identity_since=tuple(sorted(since)),
        employee_months=employee_months,
        household_enrolled=household_enrolled,
        groups=groups | {NEWBORN} if by_birth else groups,
        newborn_by_birth=by_birth,
        event_date=event_date,
        tier=tier,
        gap_years=gap_years,
        backpaid_years=backpaid_years,
        household_role=household_role or None,
        first_time=bool(first_time),
    )
    return quote(policy, person, paid_on)


def quote_json(result: Quote) -> dict:
    """The one JSON shape of a quote, shared by the CLI (--json) and POST /api/quote."""
    return {
        "policy": result.policy_id,
        "accepted": result.accepted,
        "reason": result.reason,
        "standard": result.standard,
        "subsidy": result.subsidy,
        "payable": result.payable,
        "refund_later": result.refund_later,
        "subsidy_identity": result.subsidy_identity,
        "benefit_start": result.benefit_start,
        "benefit_end": result.benefit_end,
        "explanation": list(result.explanation),
        "policy_version": result.policy_version,
        "rule": result.rule,
        "waiting_months": result.waiting_months,
        "waiting_days": result.waiting_days,
    }


def policy_summary(policy: Policy) -> dict:
    data = policy.data
    window = data.collection.main_window
    locality = data.locality
    place = "".join(x for x in (locality.province, locality.city, locality.county, locality.township) if x)
    return {
        "id": data.id,
        "title": data.title,
        "locality": place,
        "region_prefix": locality.region_prefix,
        "benefit_year": data.benefit_year,
        "collection_start": window.start,
        "collection_end": window.end,
        "days_of_month": window.days_text(),
        "tiers": sorted(data.contribution.tiers()),
        "version": policy.version,
    }


def policy_title(policy_id: str) -> str:
    """What a user reads for a policy: its title (政策文件标题), or the id when the file is missing."""
    from yibao.policy.loader import load_policy

    if not policy_id:
        return ""
    try:
        return load_policy(policy_id).data.title
    except Exception:  # a missing or broken file still names something
        return policy_id


def policy_list() -> list[dict]:
    return [policy_summary(p) for p in list_policies()]

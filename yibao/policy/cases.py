"""YAML test cases that sit beside each policy file (<policy-id>.cases.yaml).

Each case names the rule it shows, gives a person and a payment date, and states what the
quote must say. pytest runs them, and so does `yibao policy check FILE`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yibao.policy.errors import Issue, compose, format_issues, load_yaml, issues_from, yaml_error_issue
from yibao.policy.engine import Person, Policy, PolicyInputError, quote
from yibao.policy.vocabulary import UnknownTerm, group_code, identity_code


class CasePerson(BaseModel):
    model_config = ConfigDict(extra="forbid")
    birth_date: dt.date
    identities: list[str] = []
    group: str | None = None
    groups: list[str] = []
    event_date: dt.date | None = None
    tier: int = 1
    gap_years: int = 0
    backpaid_years: int = 0
    household_role: str | None = None
    first_time: bool = False
    identity_since: dict[str, dt.date] = Field({}, description="身份的认定（起始）日期，如 {低保对象: 2026-02-01}")
    employee_months: int | None = None
    household_enrolled: bool | None = None

    def to_person(self, paid_on: dt.date | None = None, benefit_year: int | None = None) -> Person:
        """The engine's Person; given the payment day and benefit year, a baby is 新生儿 by the birth
        date as the facts builder says (yibao.policy.facts.newborn_by_birth)."""
        from yibao.policy.facts import NEWBORN, newborn_by_birth

        groups = {group_code(g) for g in set(self.groups) | ({self.group} if self.group else set())}
        by_birth = (paid_on is not None and benefit_year is not None and NEWBORN not in groups
                    and newborn_by_birth(self.birth_date, paid_on, benefit_year))
        return Person(
            birth_date=self.birth_date,
            identities=frozenset(identity_code(i) for i in self.identities),
            groups=frozenset(groups | {NEWBORN} if by_birth else groups),
            newborn_by_birth=by_birth,
            event_date=self.event_date,
            tier=self.tier,
            gap_years=self.gap_years,
            backpaid_years=self.backpaid_years,
            household_role=self.household_role,
            first_time=self.first_time,
            identity_since=tuple(sorted((identity_code(k), v) for k, v in self.identity_since.items())),
            employee_months=self.employee_months,
            household_enrolled=self.household_enrolled,
        )


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accepted: bool | None = None
    standard: Decimal | None = None
    subsidy: Decimal | None = None
    payable: Decimal | None = None
    refund_later: Decimal | None = None
    subsidy_identity: str | None = Field(None)
    benefit_start: dt.date | None = None
    benefit_end: dt.date | None = None
    rule: str | None = None
    waiting_months: int | None = None
    waiting_days: int | None = None
    reason_contains: str | None = None
    explanation_contains: list[str] = []
    input_error_contains: str | None = None

    @field_validator("explanation_contains", mode="before")
    @classmethod
    def _one_fragment(cls, value):
        # a single fragment may be written like reason_contains, without brackets
        return [value] if isinstance(value, str) else value


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    person: CasePerson
    paid_on: dt.date
    expect: Expect


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    name: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


class CasesFileError(ValueError):
    """A cases file that cannot be read or does not validate; Chinese, with `issues` by line."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        super().__init__(message)
        self.issues = issues or []


def load_cases(path: str | Path) -> CaseFile:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
        document = load_yaml(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise CasesFileError(f"用例文件 {path.name} 无法读取：{getattr(exc, 'strerror', None) or '不是 UTF-8 文本'}") from None
    except yaml.YAMLError as exc:
        issue = yaml_error_issue(exc)
        raise CasesFileError(f"用例文件 {path.name} 不是合法的 YAML：\n  {issue}", [issue]) from None
    try:
        return CaseFile.model_validate(document)
    except ValidationError as exc:
        issues = issues_from(exc, CaseFile, compose(raw))
        raise CasesFileError(f"用例文件 {path.name} 校验未通过：\n{format_issues(issues)}", issues) from None


def run_case(policy: Policy, case: Case) -> CaseResult:
    expect = case.expect
    failures: list[str] = []
    try:
        result = quote(policy, case.person.to_person(case.paid_on, policy.data.benefit_year), case.paid_on)
    except (PolicyInputError, UnknownTerm) as exc:
        if expect.input_error_contains and expect.input_error_contains in str(exc):
            return CaseResult(case.name, [])
        return CaseResult(case.name, [f"输入错误：{exc}"])
    if expect.input_error_contains:
        return CaseResult(case.name, [f"应报输入错误“{expect.input_error_contains}”，实际受理了"])
    fields = expect.model_fields_set - {"reason_contains", "explanation_contains", "input_error_contains"}
    for name in sorted(fields):
        wanted, actual = getattr(expect, name), getattr(result, name)
        if wanted != actual:
            failures.append(f"{name}: 应为 {wanted}，实际 {actual}")
    if expect.reason_contains and (result.reason is None or expect.reason_contains not in result.reason):
        failures.append(f"reason 应包含“{expect.reason_contains}”，实际：{result.reason}")
    text = "\n".join(result.explanation)
    for fragment in expect.explanation_contains:
        if fragment not in text:
            failures.append(f"explanation 应包含“{fragment}”，实际：\n{text}")
    return CaseResult(case.name, failures)


def run_cases(policy: Policy, path: str | Path) -> list[CaseResult]:
    case_file = load_cases(path)
    if case_file.policy != policy.id:
        return [CaseResult(str(path), [f"用例文件属于政策 {case_file.policy}，不是 {policy.id}"])]
    return [run_case(policy, case) for case in case_file.cases]

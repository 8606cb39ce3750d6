"""Writes of the policy area: checking a county's new policy file and installing it.

The engine itself stays pure; installing only copies a validated file (and its cases) into the
policy folder and records who did it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from yibao.policy.cases import CaseResult, CasesFileError, run_cases
from yibao.policy.errors import Issue
from yibao.policy.engine import Policy
from yibao.policy.loader import (
    BUILTIN_DIR,
    NOTICES_DIR,
    PolicyFileError,
    cases_path_for,
    installed_dir,
    load_policy_file,
    notice_path,
)


class PolicyInstallError(ValueError):
    """The file may not be installed; the message is Chinese."""


@dataclass
class CheckReport:
    policy: Policy | None
    error: str | None = None
    results: list[CaseResult] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # the error's findings, each with its line
    warnings: list[Issue] = field(default_factory=list)  # checklist items left unsaid, review marks

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return self.policy is not None and self.error is None and bool(self.results) and not self.failed


def policy_check(*, path: str | Path, cases_path: str | Path | None = None) -> CheckReport:
    """Validate a policy file and run its cases (by default <id>.cases.yaml beside it)."""
    try:
        policy = load_policy_file(path)
    except PolicyFileError as exc:
        return CheckReport(policy=None, error=str(exc), issues=exc.issues)
    from yibao.policy.checklist import policy_warnings

    warnings = policy_warnings(policy)
    cases = Path(cases_path) if cases_path else cases_path_for(path)
    if not cases.exists():
        return CheckReport(policy=policy, warnings=warnings,
                           error=f"政策文件校验通过，但缺少用例文件 {cases.name}（与政策文件放在同一目录）")
    try:
        results = run_cases(policy, cases)
    except CasesFileError as exc:
        return CheckReport(policy=policy, error=str(exc), issues=exc.issues, warnings=warnings)
    except Exception as exc:  # a broken case file is a finding of the check, not a crash
        return CheckReport(policy=policy, error=f"用例文件 {cases.name} 无法读取：{exc}", warnings=warnings)
    if not results:
        return CheckReport(policy=policy, error="用例文件没有用例", warnings=warnings)
    return CheckReport(policy=policy, results=results, warnings=warnings)


def policy_check_uploaded(
    *, policy_bytes: bytes, cases_bytes: bytes, policy_name: str, notice_bytes: bytes | None = None,
    notice_name: str | None = None,
) -> tuple[CheckReport, Path]:
    """Check uploaded files in a scratch folder; returns the report and the folder. The notice's
    text (named by the file's `seed`) goes to notices/ beside it, so every reference is checked."""
    folder = Path(tempfile.mkdtemp(prefix="yibao-policy-"))
    if notice_bytes is not None and notice_name:
        (folder / "notices").mkdir()
        (folder / "notices" / Path(notice_name).name).write_bytes(notice_bytes)
    name = Path(policy_name).name
    if not name.endswith(".yaml"):
        name += ".yaml"
    path = folder / name
    path.write_bytes(policy_bytes)
    cases_path_for(path).write_bytes(cases_bytes)
    return policy_check(path=path), path


def policy_scope_check(*, policy: Policy, actor) -> None:
    """A policy reaches every county under its region_prefix (a county's 6 digits, a city's 4, a province's 2):
    an account may install it only when that whole area lies in its own scope. The command line may."""
    from yibao.accounts.scope import actor_scope
    from yibao.regions.selectors import region_name

    scope = actor_scope(actor)
    if scope is None:
        return
    scope.require("policy.manage")
    prefix = policy.data.locality.region_prefix
    if not scope.contains(prefix):
        where = policy.data.locality
        place = f"{where.province}{where.city or ''}{where.county or ''}"
        mine = region_name(scope.region_code) if scope.region_code else "全部"
        raise PolicyInstallError(
            f"政策 {policy.id} 适用于{place}（区划 {prefix}），超出当前账号的管辖范围（{mine}，{scope.region_code}），"
            f"不能安装；{'全市适用的政策由市医保局安装' if len(prefix) == 4 else '请由该区划的医保局安装'}"
        )


REPLACE_HINTS = {
    "cli": "如要覆盖，请加选项 --replace 再运行 yibao policy install",
    "page": "如要覆盖，请勾选“覆盖已安装的同名政策”后再提交",
}


def policy_install(*, path: str | Path, replace: bool = False, actor=None, via: str = "cli") -> Policy:
    """Install a checked policy file and its cases into var/policies. `via` (cli or page) says
    where the request came from, so the refusal names the option that overrides it there."""
    report = policy_check(path=path)
    if report.error:
        raise PolicyInstallError(report.error)
    if report.failed:
        raise PolicyInstallError(f"有 {len(report.failed)} 个用例未通过，不予安装")
    policy = report.policy
    policy_scope_check(policy=policy, actor=actor)
    if (BUILTIN_DIR / f"{policy.id}.yaml").exists():
        raise PolicyInstallError(f"政策 {policy.id} 是系统内置政策，不能覆盖；新年度请使用新的政策编号")
    target = installed_dir()
    target.mkdir(parents=True, exist_ok=True)
    destination = target / f"{policy.id}.yaml"
    previous = load_policy_file(destination).version if destination.exists() else None
    if previous and not replace:
        raise PolicyInstallError(f"政策 {policy.id} 已安装（版本 {previous}）；{REPLACE_HINTS[via]}")
    notice = notice_path(policy.data.seed, Path(path))
    from django.db import transaction

    from yibao.core.services import event_record

    # the event row first: if it cannot be written, nothing is installed
    with transaction.atomic():
        event_record(
            county_code=policy.data.locality.region_prefix,
            entity="policy",
            entity_id=policy.id,
            action="installed",
            actor=actor,
            before={"version": previous} if previous else None,
            after={"version": policy.version, "cases": len(report.results)},
            reason="安装政策文件",
        )
        if notice is not None and notice.parent != NOTICES_DIR:
            (target / "notices").mkdir(exist_ok=True)
            shutil.copyfile(notice, target / "notices" / notice.name)
        shutil.copyfile(cases_path_for(path), cases_path_for(destination))
        shutil.copyfile(path, destination)  # last: the policy appears only when all else is in place
    return policy

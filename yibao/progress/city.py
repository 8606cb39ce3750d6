"""The city sets its counties' targets (目标任务, 应参保人数): by hand for several counties at once, or from a
city task table (one row per county). Targets stay per county (Target rows of level 6); the city's target
is their sum and is not stored. Both writes are all or nothing, and every changed county gets an event row.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from yibao.accounts.scope import actor_scope
from yibao.core.services import event_record
from yibao.progress.models import Target
from yibao.progress.services import target_set, targets_rollup
from yibao.progress.services.common import _snapshot
from yibao.progress.services.targets import _checked_table, _count, _import_rows
from yibao.progress.tables import TaskTableError, normalise, parse_task_table
from yibao.regions.models import Region


def _city(city_code) -> tuple[str, str]:
    code = (city_code or "").strip()
    if not (code.isdigit() and len(code) == 4):
        raise ValidationError({"city_code": f"市级区划代码应为4位数字，收到：{code or '空'}"})
    name = Region.objects.filter(code=code).values_list("name", flat=True).first() or f"区划 {code}"
    return code, name


def _scope_city(actor, city_code: str):
    """The actor must manage targets and reach the whole city (a county account does not)."""
    scope = actor_scope(actor)
    if scope is not None:
        scope.require("targets.manage")
        scope.require_region(city_code)
    return scope


def city_code_for(scope, city_code: str | None = None) -> str:
    """The city asked for, else the account's own city; '' when neither says."""
    if city_code:
        return city_code.strip()
    if scope is not None and scope.above_county and len(scope.region_code) == 4:
        return scope.region_code
    return ""


def city_target_rows(*, scope, city_code: str, benefit_year: int) -> dict:
    """Each loaded county of the city with its target for the year, and the city's sum (counties with a target)."""
    code, name = _city(city_code)
    scope.require_region(code)
    counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=code).order_by("code"))
    targets = {t.region_code: t for t in Target.objects.filter(
        county_code__startswith=code, level=Region.Level.COUNTY, benefit_year=benefit_year)}
    rows = []
    for county in counties:
        t = targets.get(county.code)
        rows.append({
            "county_code": county.code, "name": county.name, "total": t.total if t else None,
            "source": t.source if t else "", "source_label": t.get_source_display() if t else "",
            "updated_at": t.updated_at if t else None, "updated_by": t.updated_by_name if t else "",
        })
    with_target = [r["total"] for r in rows if r["total"] is not None]
    return {"city_code": code, "city_name": name, "benefit_year": benefit_year, "counties": rows,
            "total": sum(with_target), "counties_without_target": len(rows) - len(with_target)}


def _check_year(benefit_year) -> int:
    try:
        year = int(benefit_year)
    except (TypeError, ValueError):
        raise ValidationError({"benefit_year": f"待遇年度应为4位年份，收到：{benefit_year}"}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"benefit_year": f"待遇年度 {year} 不正确。"})
    return year


def city_targets_plan(*, actor, city_code: str, benefit_year, totals: dict) -> dict:
    """Check every county's new 应参保人数 (blank: unchanged); returns the changes, or raises one
    ValidationError naming each bad county. Nothing is written."""
    code, name = _city(city_code)
    _scope_city(actor, code)
    year = _check_year(benefit_year)
    counties = {r.code: r for r in Region.objects.filter(level=Region.Level.COUNTY, code__startswith=code)}
    current = {t.region_code: t for t in Target.objects.filter(county_code__startswith=code, level=6, benefit_year=year)}
    errors: dict[str, str] = {}
    changes = []
    for county_code, raw in sorted((totals or {}).items()):
        county_code = str(county_code).strip()
        if county_code not in counties:
            outside = Region.objects.filter(code=county_code).values_list("name", flat=True).first()
            errors[county_code] = (f"{outside or county_code}（{county_code}）不是{name}（{code}）的县（市、区），不能设定。"
                                   if outside or not county_code.startswith(code)
                                   else f"区划 {county_code} 不是{name}已导入的县（市、区）。")
            continue
        county_errors: dict[str, str] = {}
        value = _count(raw, f"{counties[county_code].name}的应参保人数", county_errors, county_code)
        if county_errors:
            errors.update(county_errors)
            continue
        if value is None:
            continue
        before = current[county_code].total if county_code in current else None
        if before != value:
            changes.append({"county_code": county_code, "name": counties[county_code].name, "before": before, "after": value})
    if errors:
        raise ValidationError(errors)
    return {"city_code": code, "city_name": name, "benefit_year": year, "changes": changes}


@transaction.atomic
def city_targets_set(*, actor, city_code: str, benefit_year, totals: dict, reason: str) -> dict:
    """Set the 应参保人数 of several counties of a city at once (手工调整): all or nothing, with a reason.

    Each changed county goes through target_set (its own event row and roll-up); one more event row
    (county_code = the city) records the city's step.
    """
    plan = city_targets_plan(actor=actor, city_code=city_code, benefit_year=benefit_year, totals=totals)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "设定目标任务须填写原因（如：市政府2024年度目标任务分解）。"})
    if not plan["changes"]:
        raise ValidationError({"__all__": "没有需要调整的县：填写的人数与现有目标任务相同。"})
    for change in plan["changes"]:
        existing = Target.objects.filter(region_code=change["county_code"], benefit_year=plan["benefit_year"]).first()
        keep = {k: getattr(existing, k) for k in ("population", "supplementary")} if existing else {}
        target_set(actor=actor, region_code=change["county_code"], benefit_year=plan["benefit_year"], total=change["after"],
                   reason=f"{plan['city_name']}设定各县目标任务：{reason}", **keep)
    event_record(
        county_code=plan["city_code"], entity="targets_city", entity_id=f"{plan['city_code']}:{plan['benefit_year']}",
        action="adjust", actor=actor, after={"changes": plan["changes"]}, reason=reason,
    )
    return plan


def _loose_county(name: str) -> str:
    """朔城区 → 朔城, 山阴县（含开发区） → 山阴: the fallback when a county's name is not printed exactly."""
    text = re.sub(r"（[^）]*）", "", normalise(name))
    return re.sub(r"(自治县|县|区|市|旗)$", "", text) or text


@transaction.atomic
def city_targets_import(*, actor, content: bytes, filename: str, city_code: str | None = None,
                        benefit_year=None, accept_total_mismatch: bool = False) -> dict:
    """Import a city's task table (one row per county: 县（市、区） | 应参保人数 [| 特群免缴 | 其他居民 | 总人口]).

    All rows or none: a county name that is not one of the city's counties, a bad number, a repeated county
    or a 合计 row that differs from the sum (unless accept_total_mismatch) stops it, with row-level messages.
    """
    scope = actor_scope(actor)
    code, name = _city(city_code_for(scope, city_code))
    _scope_city(actor, code)
    try:
        table = parse_task_table(content, filename)
    except TaskTableError as exc:
        raise ValidationError(exc.errors) from None
    if table.level != 6:
        raise ValidationError(f"“{filename}”是按{'村' if table.level == 12 else '乡镇'}分解的任务表：全市任务表应每行一个县（市、区），"
                              f"名称列为“县（市、区）”。按乡镇、村分解的表由县医保局导入。")
    year = _check_year(benefit_year or table.year_hint or 0) if (benefit_year or table.year_hint) else None
    if year is None:
        raise ValidationError("无法从表头确定待遇年度，请指定待遇年度（如 --year 2024）。")
    counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=code))
    exact = {normalise(c.name): c for c in counties}
    loose = {_loose_county(c.name): c for c in counties}
    errors: list[str] = []
    matched: dict[int, Region] = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        county = exact.get(normalise(row.name)) or loose.get(_loose_county(row.name))
        if county is None:
            errors.append(f"第{row.line}行：“{row.name}”不是{name}（{code}）已导入的县（市、区）")
            continue
        if county.code in seen:
            errors.append(f"第{row.line}行：“{row.name}”与第{seen[county.code]}行是同一个县（{county.name}）")
            continue
        seen[county.code] = row.line
        matched[row.line] = county
    warnings = _checked_table(table, errors, accept_total_mismatch=accept_total_mismatch)
    units = []

    def written(county, values, target, before, changed):
        if changed:
            event_record(
                county_code=county.code, entity="target", entity_id=f"{county.code}:{year}", action="import",
                actor=actor, before=before, after=_snapshot(target), reason=f"{name}任务表：{table.title or filename}",
            )
        warnings.extend(targets_rollup(county_code=county.code, benefit_year=year, actor=actor))
        units.append({"county_code": county.code, "name": county.name, **values})

    (created, updated, unchanged), _changes = _import_rows(
        table=table, matched=matched, benefit_year=year, actor=actor, source_name=filename,
        layout=table.layout if table.layout == "towns" else "", written=written,
    )
    sums = table.sums()
    event_record(
        county_code=code, entity="targets_city", entity_id=f"{code}:{year}", action="import", actor=actor,
        after={"file": filename, "rows": len(table.rows), "created": created, "updated": updated, "sums": sums},
        reason=f"导入{name}目标任务表：{table.title or filename}",
    )
    return {"file": filename, "title": table.title, "city_code": code, "city_name": name, "benefit_year": year,
            "rows": len(table.rows), "imported": created, "updated": updated, "unchanged": unchanged, "sums": sums,
            "units": units, "warnings": warnings}


def city_year_default(city_code: str) -> int:
    """The year a city's page starts at: an open campaign's, else the latest year with county targets, else the
    newest city-wide policy's, else this year."""
    from yibao.core.clock import business_today
    from yibao.enrollment.models import Campaign
    from yibao.policy.loader import policies_for_region

    year = (Campaign.objects.filter(county_code__startswith=city_code, status=Campaign.Status.OPEN, imported=False)
            .order_by("-benefit_year").values_list("benefit_year", flat=True).first())
    year = year or (Target.objects.filter(county_code__startswith=city_code, level=6).order_by("-benefit_year")
                    .values_list("benefit_year", flat=True).first())
    if not year:
        policies = policies_for_region(city_code)
        year = policies[0].data.benefit_year if policies else business_today().year
    return year

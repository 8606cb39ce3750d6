"""Targets (目标任务): importing a county's or township's task table, matching its names to regions,
setting one, rolling villages up, deriving from last year, and the demo's."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from yibao.core.services import actor_fields, event_record
from yibao.enrollment.models import Enrollment
from yibao.progress import selectors
from yibao.progress.models import Target
from yibao.progress.tables import TaskTable, TaskTableError, normalise, parse_task_table, total_mismatches
from yibao.regions.models import Region
from yibao.registry.models import Resident
from yibao.progress.services.common import LEVEL_NAMES, TARGET_FIELDS, _scope, _snapshot
from yibao.progress.services.refresh import progress_refresh



# ---------------------------------------------------------------- matching a table's names to regions


def _loose(name: str) -> str:
    """厉山镇（含经济开发区） → 厉山; 白马村 → 白马: the fallback when a name is not printed exactly."""
    text = re.sub(r"（[^）]*）", "", normalise(name))
    return re.sub(r"(村民委员会|居民委员会|村委会|居委会|社区|街道办事处|街道|村|镇|乡|农场)$", "", text) or text


def _infer_county(table: TaskTable) -> str:
    names = {r.name for r in table.rows}
    found: dict[str, set] = defaultdict(set)
    for county, name in Region.objects.filter(level=table.level, name__in=names).values_list("county_code", "name"):
        found[county].add(name)
    complete = [c for c, matched in found.items() if matched == names]
    if len(complete) == 1:
        return complete[0]
    if complete:
        raise ValidationError(f"表中名称同时对应 {'、'.join(sorted(complete))} 等多个县，请指定县级区划代码。")
    raise ValidationError("无法从表中名称确定所属县（区），请指定县级区划代码（如 --county 421223）。")


def _infer_township(table: TaskTable, county_code: str) -> str | None:
    title = normalise(table.title)
    if not title:
        return None
    hits = [code for code, name in Region.objects.filter(level=9, county_code=county_code).values_list("code", "name")
            if normalise(name) in title]
    return hits[0] if len(hits) == 1 else None


def _match_units(table: TaskTable, county_code: str, township_code: str | None) -> tuple[dict[int, Region], list[str]]:
    regions = Region.objects.filter(level=table.level, county_code=county_code)
    if township_code and table.level == 12:
        regions = regions.filter(parent_id=township_code)
    exact, loose = defaultdict(list), defaultdict(list)
    for region in regions:
        exact[normalise(region.name)].append(region)
        loose[_loose(region.name)].append(region)
    where = Region.objects.filter(code=township_code or county_code).values_list("name", flat=True).first() or county_code
    where = f"{where}（{township_code or county_code}）"
    matched, errors, used = {}, [], {}
    for row in table.rows:
        found = exact.get(normalise(row.name)) or loose.get(_loose(row.name)) or []
        if not found:
            errors.append(
                f"第{row.line}行：{table.name_header}“{row.name}”在{where}下找不到同名的{LEVEL_NAMES[table.level]}，"
                "请核对名称（须与区划名称一致）或先导入区划"
            )
        elif len(found) > 1:
            codes = "、".join(r.code for r in found)
            errors.append(f"第{row.line}行：“{row.name}”在{where}下对应多个{LEVEL_NAMES[table.level]}（{codes}），请指定乡镇")
        elif found[0].code in used:
            errors.append(f"第{row.line}行：“{row.name}”与第{used[found[0].code]}行对应同一区划 {found[0].code}")
        else:
            matched[row.line] = found[0]
            used[found[0].code] = row.line
    return matched, errors


# ---------------------------------------------------------------- targets


def _write_target(*, region_code: str, benefit_year: int, values: dict, source: str, layout: str = "",
                  supplementary_label: str = "", source_name: str = "", actor=None) -> tuple[Target, dict | None, bool]:
    """Create or update one target; returns (target, before, changed)."""
    target = Target.objects.select_for_update().filter(region_code=region_code, benefit_year=benefit_year).first()
    before = _snapshot(target)
    if target is None:
        target = Target(county_code=region_code[:6], region_code=region_code, level=len(region_code), benefit_year=benefit_year)
    for key in TARGET_FIELDS:
        setattr(target, key, values.get(key))
    target.source, target.source_name = source, source_name[:255]
    if layout or not target.layout:
        target.layout = layout
    if supplementary_label or values.get("supplementary") is None:
        target.supplementary_label = supplementary_label
    changed = before is None or _snapshot(target) != before
    if changed:
        target.updated_at = timezone.now()
        target.updated_by_name = actor_fields(actor)["actor_name"]
        target.save()
    return target, before, changed


def _checked_table(table: TaskTable, errors: list[str], *, accept_total_mismatch: bool) -> list[str]:
    """Refuse the table with its errors and any 合计不符 not accepted; else its warnings (合计不符 included)."""
    mismatches = total_mismatches(table)
    if mismatches and not accept_total_mismatch:
        errors = errors + [m + "。请核对后重新导入，或确认以各行数值为准后选择“合计不符仍导入”" for m in mismatches]
    if errors:
        raise ValidationError(errors)
    return list(table.warnings) + mismatches


def _import_rows(*, table: TaskTable, matched: dict[int, Region], benefit_year: int, actor, source_name: str,
                 layout: str, supplementary_label: str = "", written=None) -> tuple[tuple[int, int, int], list[dict]]:
    """Write each row of a task table as the target (source 导入) of the region matched to its line, in order.

    Returns (created, updated, unchanged) and the changed rows (code, name, before, after). `written`, when
    given, is called right after each row's write with (region, values, target, before, changed).
    """
    created = updated = unchanged = 0
    changes = []
    for row in table.rows:
        region = matched[row.line]
        values = {key: getattr(row, key) for key in TARGET_FIELDS}
        target, before, changed = _write_target(
            region_code=region.code, benefit_year=benefit_year, values=values, source=Target.Source.IMPORT,
            layout=layout, supplementary_label=supplementary_label, source_name=source_name, actor=actor,
        )
        if before is None:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
        if changed:
            changes.append({"code": region.code, "name": row.name, "before": before, "after": _snapshot(target)})
        if written is not None:
            written(region, values, target, before, changed)
    return (created, updated, unchanged), changes


@transaction.atomic
def targets_rollup(*, county_code: str, benefit_year: int, actor=None) -> list[str]:
    """Township targets from their villages, the county's from its townships, where no one set them by hand.

    Returns Chinese warnings where a hand-set target differs from the sum below it.
    """
    warnings: list[str] = []
    for level, parent_len in ((12, 9), (9, 6)):
        targets = {t.region_code: t for t in Target.objects.filter(county_code=county_code, benefit_year=benefit_year)}
        children: dict[str, list[Target]] = defaultdict(list)
        for code, t in targets.items():
            if len(code) == level:
                children[code[:parent_len]].append(t)
        for parent_code, kids in sorted(children.items()):
            values = {}
            for key in TARGET_FIELDS:
                numbers = [getattr(k, key) for k in kids]
                values[key] = sum(numbers) if all(n is not None for n in numbers) else None
            existing = targets.get(parent_code)
            if existing is not None and existing.source != Target.Source.ROLLUP:
                if existing.total != values["total"]:
                    name = Region.objects.filter(code=parent_code).values_list("name", flat=True).first() or parent_code
                    warnings.append(f"{name}的目标任务 {existing.total} 与下级之和 {values['total']} 不一致（保留{existing.get_source_display()}的数值）")
                continue
            layouts = {k.layout for k in kids}
            labels = {k.supplementary_label for k in kids if k.supplementary_label}
            _write_target(
                region_code=parent_code, benefit_year=benefit_year, values=values, source=Target.Source.ROLLUP,
                layout=layouts.pop() if len(layouts) == 1 else "", supplementary_label=labels.pop() if len(labels) == 1 else "",
                actor=actor,
            )
    return warnings


@transaction.atomic
def targets_import(*, actor, content: bytes, filename: str, county_code: str | None = None,
                   benefit_year: int | None = None, township_code: str | None = None,
                   accept_total_mismatch: bool = False) -> dict:
    """Import a task table (肖岭乡 or 随县 layout, CSV or xlsx): all rows or none.

    Units are matched to regions by name. A printed 合计 row that differs from the sum of the rows
    stops the import, unless accept_total_mismatch, which imports and keeps the difference as a warning.
    """
    scope = _scope(actor, "targets.manage")
    try:
        table = parse_task_table(content, filename)
    except TaskTableError as exc:
        raise ValidationError(exc.errors) from None
    if table.level == 6:
        raise ValidationError("这是按县（市、区）分解的全市任务表：请由市医保局在“各县目标任务”页面或 yibao targets import-city 导入。")
    county_code = (county_code or "").strip() or None
    if county_code and not (county_code.isdigit() and len(county_code) == 6):
        raise ValidationError(f"县级区划代码应为6位数字，收到：{county_code}")
    county_code = county_code or (scope.county_code if scope is not None and scope.region_code else None) or _infer_county(table)
    if scope is not None:
        scope.require_region(county_code)
    if township_code:
        if not (len(township_code) == 9 and township_code.startswith(county_code)):
            raise ValidationError(f"乡镇区划代码 {township_code} 不属于 {county_code}。")
    elif table.level == 12:
        township_code = _infer_township(table, county_code)
    if scope is not None and scope.level and scope.level > 6:
        scope.require_region(township_code or "")
    benefit_year = benefit_year or table.year_hint
    if not benefit_year:
        raise ValidationError("无法从表头确定待遇年度，请指定待遇年度（如 --year 2024）。")
    if not 2000 <= int(benefit_year) <= 2100:
        raise ValidationError(f"待遇年度 {benefit_year} 不正确。")
    matched, errors = _match_units(table, county_code, township_code)
    warnings = _checked_table(table, errors, accept_total_mismatch=accept_total_mismatch)
    (created, updated, unchanged), changes = _import_rows(
        table=table, matched=matched, benefit_year=benefit_year, actor=actor, source_name=filename,
        layout=table.layout, supplementary_label=table.supplementary_label,
    )
    warnings += targets_rollup(county_code=county_code, benefit_year=benefit_year, actor=actor)
    sums = table.sums()
    event_record(
        county_code=county_code, entity="targets", entity_id=f"{county_code}:{benefit_year}", action="import", actor=actor,
        after={"file": filename, "rows": len(table.rows), "created": created, "updated": updated, "sums": sums,
               "changes": changes[:200]},
        reason=f"导入目标任务表：{table.title or filename}",
    )
    parent = township_code if table.level == 12 and township_code else county_code
    return {
        "file": filename, "title": table.title, "county_code": county_code, "benefit_year": benefit_year,
        "level": table.level, "layout": table.layout, "parent_code": parent,
        "rows": len(table.rows), "imported": created, "updated": updated, "unchanged": unchanged,
        "sums": sums, "printed_total": {k: getattr(table.printed_total, k) for k in sums} if table.printed_total else None,
        "supplementary_label": table.supplementary_label,
        "units": [{"code": matched[r.line].code, "name": r.name, **{k: getattr(r, k) for k in TARGET_FIELDS}} for r in table.rows],
        "warnings": warnings,
    }


def _count(value, label: str, errors: dict, key: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[key] = f"{label}应为人数（非负整数），收到：{value}"
        return None
    if number < 0:
        errors[key] = f"{label}不能为负数。"
    elif number > 100_000_000:
        errors[key] = f"{label}超出范围（最多 1 亿人），收到：{number}"
    return number


@transaction.atomic
def target_set(*, actor, region_code: str, benefit_year: int, total, special=None, others=None, population=None,
               supplementary=None, supplementary_label: str = "", reason: str) -> Target:
    """Set or adjust one unit's target by hand (手工调整), with its reason; parents that roll up follow."""
    scope = _scope(actor, "targets.manage")
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        raise ValidationError({"region_code": f"区划代码 {region_code} 不存在。"})
    if region.level < Region.Level.COUNTY:  # a city's or province's target is the sum of its counties'
        raise ValidationError({"region_code": f"目标任务设到县（区）、乡镇或村；{region.name}（{region.code}）的目标是所辖各县之和。"})
    if scope is not None:
        scope.require_region(region.code)
    errors: dict[str, str] = {}
    values = {
        "total": _count(total, "应参保人数", errors, "total"),
        "special": _count(special, "特群免缴", errors, "special"),
        "others": _count(others, "其他居民", errors, "others"),
        "population": _count(population, "总人口", errors, "population"),
        "supplementary": _count(supplementary, "补充保险应参保人数", errors, "supplementary"),
    }
    if values["total"] is None and "total" not in errors:
        errors["total"] = "请填写应参保人数。"
    if not errors and values["total"] is not None:
        if values["special"] is not None and values["others"] is None and values["special"] <= values["total"]:
            values["others"] = values["total"] - values["special"]
        if values["special"] is not None and values["others"] is not None and values["special"] + values["others"] != values["total"]:
            errors["special"] = (f"特群免缴 {values['special']} + 其他居民 {values['others']} 应等于应参保人数 {values['total']}。")
    if not (reason or "").strip():
        errors["reason"] = "调整目标任务须填写原因（如：县政府2024年10月调整任务）。"
    if errors:
        raise ValidationError(errors)
    existing = Target.objects.filter(region_code=region.code, benefit_year=benefit_year).first()
    target, before, changed = _write_target(
        region_code=region.code, benefit_year=int(benefit_year), values=values, source=Target.Source.MANUAL,
        layout=existing.layout if existing else "",
        supplementary_label=supplementary_label or (existing.supplementary_label if existing else ""),
        source_name=existing.source_name if existing else "", actor=actor,
    )
    if changed or (existing and existing.source != Target.Source.MANUAL):
        event_record(
            county_code=target.county_code, entity="target", entity_id=f"{target.region_code}:{benefit_year}",
            action="adjust", actor=actor, before=before, after=_snapshot(target), reason=reason.strip(),
        )
    targets_rollup(county_code=target.county_code, benefit_year=int(benefit_year), actor=actor)
    return target


@transaction.atomic
def targets_derive(*, actor, county_code: str, benefit_year: int, basis: str = "last_year",
                   growth_percent: Decimal | str | int = 0) -> dict:
    """Village targets from last year's enrollment (随县: 维持上年实际参保人数, or +1.5%) or from the register.

    Targets set by import or by hand are kept; only missing or derived ones are written.
    """
    scope = _scope(actor, "targets.manage")
    if scope is not None:
        scope.require_region(county_code)
    if basis not in ("last_year", "register"):
        raise ValidationError(f"未知的生成依据：{basis}（应为 last_year 或 register）")
    growth = Decimal(str(growth_percent))
    if basis == "last_year":
        counts = dict(
            Enrollment.objects.filter(selectors.covered_q(), county_code=county_code, benefit_year=benefit_year - 1)
            .values_list("resident__village_code").annotate(n=Count("pk")).values_list("resident__village_code", "n")
        )
    else:
        counts = dict(
            Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE)
            .values_list("village_code").annotate(n=Count("pk")).values_list("village_code", "n")
        )
    special = selectors.special_by(
        Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE),
        county_code=county_code, benefit_year=benefit_year, group="village_code",
    )
    kept = set(
        Target.objects.filter(county_code=county_code, benefit_year=benefit_year, level=12)
        .exclude(source=Target.Source.DERIVED).values_list("region_code", flat=True)
    )
    written = 0
    label = "上年参保人数" if basis == "last_year" else "在册人数"
    for village, n in sorted(counts.items()):
        if not village or village in kept:
            continue
        total = int((Decimal(n) * (1 + growth / 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        groups = min(special.get(village, 0), total)
        _write_target(
            region_code=village, benefit_year=benefit_year, source=Target.Source.DERIVED,
            values={"total": total, "special": groups, "others": total - groups},
            source_name=f"按{label}生成" + (f"（增长{growth}%）" if growth else ""), actor=actor,
        )
        written += 1
    warnings = targets_rollup(county_code=county_code, benefit_year=benefit_year, actor=actor)
    event_record(
        county_code=county_code, entity="targets", entity_id=f"{county_code}:{benefit_year}", action="derive", actor=actor,
        after={"basis": basis, "growth_percent": str(growth), "villages": written, "kept": len(kept)},
        reason=f"按{label}生成各村目标任务",
    )
    return {"villages": written, "kept": len(kept), "warnings": warnings}


def targets_load_demo(*, county_code: str = "340321", benefit_year: int | None = None, actor="演示数据") -> dict:
    """Targets for the demo county (怀远县): each village's register count, split into special groups and others.

    Called by `make run` after the demo residents are loaded; running it again changes nothing new.
    """
    benefit_year = benefit_year or selectors.benefit_year_default(county_code)
    if not benefit_year:
        raise ValidationError(f"{county_code} 没有征缴年度或缴费政策，无法生成演示目标任务。")
    result = targets_derive(actor=actor, county_code=county_code, benefit_year=benefit_year, basis="register")
    refresh = progress_refresh(county_code=county_code, benefit_year=benefit_year)
    return {**result, "benefit_year": benefit_year, "refresh": refresh}

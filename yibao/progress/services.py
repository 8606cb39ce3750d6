"""Writes of the progress area: targets (import, adjust, roll up, derive), the progress rollup, 催缴 marks.

The rollup (VillageProgress, VillageDay) is rebuilt from payments and enrollments by
`progress_refresh`: for a whole county by the refresh job, or for a few villages right after a
counter booking (the collection app calls it with `village_codes`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from yibao.accounts.scope import actor_scope
from yibao.core.progress import NullProgress
from yibao.core.services import actor_fields, event_record, job_outcome_record
from yibao.enrollment.models import Enrollment
from yibao.progress import selectors, snapshots
from yibao.progress.models import AreaDay, DaySnapshot, ProgressRefresh, RemindMark, Target, VillageDay, VillageProgress
from yibao.progress.tables import TaskTable, TaskTableError, normalise, parse_task_table, total_mismatches
from yibao.regions.models import Region
from yibao.registry.models import Resident

TARGET_FIELDS = ("total", "special", "others", "population", "supplementary")
LEVEL_NAMES = {6: "县（区）", 9: "乡镇", 12: "村（社区）"}


def _scope(actor, capability: str):
    scope = actor_scope(actor)
    if scope is not None:
        scope.require(capability)
    return scope


def _snapshot(target: Target | None) -> dict | None:
    if target is None:
        return None
    return {k: getattr(target, k) for k in TARGET_FIELDS} | {"source": target.source}


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
    mismatches = total_mismatches(table)
    if mismatches and not accept_total_mismatch:
        errors += [m + "。请核对后重新导入，或确认以各行数值为准后选择“合计不符仍导入”" for m in mismatches]
    if errors:
        raise ValidationError(errors)
    warnings = list(table.warnings) + mismatches
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


# ---------------------------------------------------------------- the progress rollup


def _by(queryset, *fields, value=None) -> dict:
    value = value or Count("pk")
    rows = queryset.values_list(*fields).annotate(n=value).values_list(*fields, "n")
    if len(fields) == 1:
        return {row[0]: row[1] for row in rows}
    return {tuple(row[:-1]): row[-1] for row in rows}


PROGRESS_COLUMNS = ("county_code", "township_code", "village_code", "benefit_year", "paid", "enrolled", "registered",
                    "special_people", "special_enrolled", "last_year", "renewed", "amount", "refreshed_at")
DAY_COLUMNS = ("county_code", "township_code", "village_code", "benefit_year", "day", "paid", "exempt", "amount")
AREA_DAY_COLUMNS = ("county_code", "region_code", "benefit_year", "day", "paid", "exempt", "amount")


PROGRESS_KEY = ("village_code", "benefit_year")
DAY_KEY = ("village_code", "benefit_year", "day")
AREA_DAY_KEY = ("region_code", "benefit_year", "day")
SNAPSHOT_KEY = ("region_code", "benefit_year", "day")
KEYS = {VillageProgress: PROGRESS_KEY, VillageDay: DAY_KEY, AreaDay: AREA_DAY_KEY, DaySnapshot: SNAPSHOT_KEY}
UPSERT_BATCH = 1000


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ready tuples, or update the row already there with the same unique key (an upsert:
    INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike).

    Refreshes run at once (two payments of one village, two villages of one township) and each
    writes the rows it counted: a row another refresh wrote in the meantime is brought up to date,
    never a unique-key error. Plain tuples, not bulk_create: the rollup has tens of thousands of rows and
    bulk_create's per-object compile would dominate the refresh. SQLite takes multi-row statements;
    PostgreSQL the same for a few rows (one village) and, for more, a COPY into the session's staging
    table and one INSERT … SELECT (client-side binding of tens of thousands of parameters costs seconds).
    Rows are written in key order, so refreshes at once take their row locks in the same order.
    """
    from django.db import connection

    if not rows:
        return
    key = KEYS[model]
    fields = [model._meta.get_field(c) for c in columns]
    where = {c: i for i, c in enumerate(columns)}
    rows = sorted(rows, key=lambda row: tuple(row[where[c]] for c in key))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    conflict = ", ".join(quote(model._meta.get_field(c).column) for c in key)
    updates = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if f.name not in key)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > UPSERT_BATCH:  # COPY into a staging table, one upsert
            stage = quote(f"stage_{model._meta.db_table}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {table} WITH NO DATA")
            cursor.execute(f"TRUNCATE {stage}")
            buffer = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)
            with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                copy.write(buffer.encode())
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ORDER BY {conflict} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
            cursor.execute(f"TRUNCATE {stage}")
            return
        convert = [(i, f) for i, f in enumerate(fields)
                   if f.get_internal_type() in ("DateField", "DateTimeField", "DecimalField")]
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), UPSERT_BATCH):
            batch = rows[start:start + UPSERT_BATCH]
            params = []
            for row in batch:
                if convert:
                    row = list(row)
                    for i, f in convert:
                        row[i] = f.get_db_prep_save(row[i], connection)
                params.extend(row)
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(batch))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                params,
            )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _delete_other_rows(queryset, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Delete the rows of `queryset` whose unique key is not among `rows` (after their upsert)."""
    key = KEYS[queryset.model]
    where = [columns.index(c) for c in key]
    kept = {tuple(row[i] for i in where) for row in rows}
    stale = [pk for pk, *values in queryset.values_list("pk", *key).iterator(chunk_size=5000) if tuple(values) not in kept]
    for start in range(0, len(stale), 5000):
        doomed = queryset.model.objects.filter(pk__in=stale[start:start + 5000])
        doomed._raw_delete(doomed.db)


def _rollup_lock(county_code: str, benefit_year: int) -> None:
    """On PostgreSQL, refreshes of one county's year write one at a time (SQLite's write lock does this):
    the later one then sees the earlier one's rows, and two never wait on each other's row locks."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7302_0000 + int(benefit_year), int(county_code)])


def _area_days(*, county_code: str, benefit_year: int, villages: list[str] | None, days: dict) -> None:
    """Rewrite the township and county curves: from `days` after a full count; after a partial one, the
    touched townships from their villages' rows and the county from its townships."""
    if not villages:
        sums: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal("0.00")])
        for (village, day), (n_paid, n_exempt, amount) in days.items():
            if day is None:
                continue
            for area in (village[:9], county_code):
                sums[(area, day)][0] += n_paid
                sums[(area, day)][1] += n_exempt
                sums[(area, day)][2] += amount
        fresh = [(county_code, area, benefit_year, day, p, e, a) for (area, day), (p, e, a) in sorted(sums.items())]
        _insert_rows(AreaDay, AREA_DAY_COLUMNS, fresh)
        _delete_other_rows(AreaDay.objects.filter(county_code=county_code, benefit_year=benefit_year), AREA_DAY_COLUMNS,
                           fresh)
        return
    townships = sorted({v[:9] for v in villages})
    for area, source in [(t, VillageDay.objects.filter(township_code=t)) for t in townships] + [
        (county_code, AreaDay.objects.filter(county_code=county_code).exclude(region_code=county_code))
    ]:
        rows = (
            source.filter(benefit_year=benefit_year).values_list("day")
            .annotate(p=Sum("paid"), e=Sum("exempt"), a=Sum("amount")).values_list("day", "p", "e", "a")
        )
        fresh = [(county_code, area, benefit_year, day, p or 0, e or 0, a or Decimal("0.00")) for day, p, e, a in rows]
        _insert_rows(AreaDay, AREA_DAY_COLUMNS, fresh)
        _delete_other_rows(AreaDay.objects.filter(region_code=area, benefit_year=benefit_year), AREA_DAY_COLUMNS, fresh)


def progress_refresh(*, county_code: str, benefit_year: int, village_codes=None, progress=None, job=None) -> dict:
    """Rebuild the rollup of a county's year from payments and enrollments (or only of `village_codes`).

    Grouped counts only: a handful of aggregate queries, whatever the county's size. The counting
    reads run outside the write transaction (on SQLite a write transaction holds the database's
    write lock, and a county's count takes a while); only the swap of the rollup rows is atomic.

    A person counts in the village they live in now (Resident.village_code): their enrollment,
    their booked payment, their day on the curve, last year's cover and its renewal. After a move
    the payment row keeps the place the money was taken (cash and receipts are reconciled there),
    so every count reads the resident's village through one join on the resident's key.
    """
    from yibao.collection.models import Payment

    progress = progress or NullProgress()
    started, now = time.monotonic(), timezone.now()
    villages = sorted(set(village_codes)) if village_codes else None
    if villages:  # a caller names where a payment was taken: its payer may live elsewhere now
        villages = sorted(set(villages) | _payers_villages(county_code, benefit_year, villages))

    place = "resident__village_code"  # where the person lives now, for every count below

    def only(queryset, field=place):
        return queryset.filter(**{f"{field}__in": villages}) if villages else queryset

    progress.start(8, "统计已缴人数")
    # the resident's county in every join to the register: the plan reads this county's residents only, not
    # every county's (one database for a city or province; a shard key on Citus, docs/scale.md)
    here = {"resident__county_code": county_code}
    booked = Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, status=Payment.Status.BOOKED)
    paid = _by(only(booked.filter(**here)), place)
    progress.advance()
    progress.step("统计参保人数")
    enrollments = Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year, **here)
    statuses = _by(only(enrollments), place, "status")
    progress.advance()
    progress.step("统计特殊群体")
    special_people = selectors.special_by(
        only(Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE), "village_code"),
        county_code=county_code, benefit_year=benefit_year, group="village_code", few=bool(villages),
    )
    progress.advance()
    done = enrollments.filter(status=Enrollment.Status.PAID)
    special_enrolled = selectors.special_by(
        only(done), county_code=county_code, benefit_year=benefit_year, group=place, resident_field="resident_id",
        few=bool(villages),
    )
    progress.advance()
    progress.step("比对上年参保")
    last = Enrollment.objects.filter(selectors.covered_q(), county_code=county_code, benefit_year=benefit_year - 1,
                                     **here)
    last = only(last)
    last_year = _by(last, place)
    renewed_now = Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year, status=Enrollment.Status.PAID)
    if villages:  # a few villages: probe the index per person; a county: one hashed set
        renewed_now = Exists(renewed_now.filter(resident_id=OuterRef("resident_id")))
        renewed = _by(last.filter(renewed_now), place)
    else:
        renewed = _by(last.filter(resident_id__in=renewed_now.values("resident_id")), place)
    progress.advance()
    progress.step("统计每日进度")
    day_rows = only(booked.filter(**here)).values_list(place, "paid_on").annotate(n=Count("pk"), amount=Sum("amount"))
    days: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal("0.00")])
    for village, day, n, amount in day_rows.values_list(place, "paid_on", "n", "amount"):
        days[(village, day)][0] += n
        days[(village, day)][2] += amount or 0
    if villages:
        without_booking = only(done).exclude(Exists(booked.filter(resident_id=OuterRef("resident_id"))))
    else:
        without_booking = selectors.exclude_residents(done, "resident_id", booked)
    exempt = (
        without_booking.annotate(day=TruncDate("registered_at"))  # the business day it was registered
        .values_list(place, "day").annotate(n=Count("pk")).values_list(place, "day", "n")
    )
    for village, day, n in exempt:
        days[(village, day)][1] += n
    progress.advance()
    progress.step("写入统计结果")
    amounts: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for (village, _day), (_paid, _exempt, amount) in days.items():
        amounts[village] += amount
    codes = set(paid) | {v for v, _ in statuses} | set(special_people) | set(special_enrolled) | set(last_year)
    codes |= {v for v, _ in days}
    if villages:
        codes = set(villages)
    else:
        codes |= set(Region.objects.filter(county_code=county_code, level=12).values_list("code", flat=True))
    codes = {c for c in codes if c and len(c) == 12}
    progress_rows = [
        (county_code, code[:9], code, benefit_year, paid.get(code, 0), statuses.get((code, Enrollment.Status.PAID), 0),
         statuses.get((code, Enrollment.Status.REGISTERED), 0), special_people.get(code, 0),
         special_enrolled.get(code, 0), last_year.get(code, 0), renewed.get(code, 0), amounts.get(code, Decimal("0.00")),
         now)
        for code in sorted(codes)
    ]
    day_rows = [
        (county_code, village[:9], village, benefit_year, day, n_paid, n_exempt, amount)
        for (village, day), (n_paid, n_exempt, amount) in sorted(days.items())
        if village in codes and day is not None
    ]
    with transaction.atomic():
        _swap_rollup(county_code=county_code, benefit_year=benefit_year, villages=villages, codes=codes,
                     progress_rows=progress_rows, day_rows=day_rows, days=days)
        progress.advance()
        seconds = round(time.monotonic() - started, 3)
        if not villages:  # stamped with the time counting began: a change made meanwhile still makes it stale
            ProgressRefresh.objects.update_or_create(
                county_code=county_code, benefit_year=benefit_year,
                defaults={"refreshed_at": now, "seconds": seconds, "villages": len(progress_rows)},
            )
        snapshots.snapshot_write(county_code=county_code, benefit_year=benefit_year, villages=villages,
                                 refreshed_at=None if villages else now)  # today's figures, as counted
        result = {"county_code": county_code, "benefit_year": benefit_year, "villages": len(progress_rows),
                  "days": len(day_rows), "seconds": seconds, "partial": bool(villages)}
        job_outcome_record(job=job, result={**result, "rows": result["villages"]})
    progress.advance()
    return result


def _payers_villages(county_code: str, benefit_year: int, villages: list[str]) -> set[str]:
    """The villages the people who paid at `villages` live in now, when they moved (an indexed read
    of those villages' payments of the year)."""
    from yibao.collection.models import Payment

    return set(
        Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, village_code__in=villages,
                               resident__isnull=False)
        .exclude(resident__village_code__in=villages).values_list("resident__village_code", flat=True).distinct()
    )


def progress_refresh_after_move(*, county_code: str, village_codes) -> None:
    """Once a move (迁移) commits, count the villages it left and joined again, in every year the
    county has a rollup for (a person's enrollment of one year is also the next year's 上年参保).
    A failure is logged, never raised: the move stands whatever the count does."""
    villages = sorted({code for code in village_codes if code})

    def refresh():
        years = ProgressRefresh.objects.filter(county_code=county_code).values_list("benefit_year", flat=True)
        for year in sorted(set(years) | set(
            VillageProgress.objects.filter(village_code__in=villages).values_list("benefit_year", flat=True)
        )):
            progress_refresh(county_code=county_code, benefit_year=year, village_codes=villages)

    if villages:
        transaction.on_commit(refresh, robust=True)


def _swap_rollup(*, county_code, benefit_year, villages, codes, progress_rows, day_rows, days) -> None:
    """Upsert the counted rows, then drop the rows of the same scope that the count no longer has."""
    _rollup_lock(county_code, benefit_year)
    if villages:  # by the (village, year, day) key, not the county's index
        old_progress = VillageProgress.objects.filter(village_code__in=villages, benefit_year=benefit_year)
        old_days = VillageDay.objects.filter(village_code__in=villages, benefit_year=benefit_year)
    else:
        old_progress = VillageProgress.objects.filter(county_code=county_code, benefit_year=benefit_year)
        old_days = VillageDay.objects.filter(county_code=county_code, benefit_year=benefit_year)
    _insert_rows(VillageProgress, PROGRESS_COLUMNS, progress_rows)
    _delete_other_rows(old_progress, PROGRESS_COLUMNS, progress_rows)
    _insert_rows(VillageDay, DAY_COLUMNS, day_rows)
    _delete_other_rows(old_days, DAY_COLUMNS, day_rows)
    _area_days(county_code=county_code, benefit_year=benefit_year, villages=villages,
               days={k: v for k, v in days.items() if k[0] in codes})


def progress_is_stale(*, county_code: str, benefit_year: int, max_age_seconds: int = 60) -> bool | None:
    """None when the county was never counted; True when something changed since (any event row) and the
    last count is older than `max_age_seconds`."""
    from yibao.core.models import Event

    refreshed = ProgressRefresh.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
    if refreshed is None:
        return None
    if timezone.now() - refreshed.refreshed_at < dt.timedelta(seconds=max_age_seconds):
        return False
    return Event.objects.filter(county_code=county_code, at__gt=refreshed.refreshed_at).exists()


AUTO_RECOUNT = "系统（数据有变更，自动重新统计）"


def progress_ensure(*, county_code: str, benefit_year: int, actor=None, on: dt.date | None = None) -> str:
    """Count a county now if it was never counted ('refreshed'); queue a recount when it is stale ('queued').
    With a past day `on`, also store that day's figures if it has none (computed once from dates).

    The queued recount is the system's upkeep, not the viewer's: opening a page (even as 审计) starts no
    job in the viewer's name; starting one by hand needs progress.refresh. `actor` is kept for callers.
    """
    stale = progress_is_stale(county_code=county_code, benefit_year=benefit_year)
    if stale is None:
        progress_refresh(county_code=county_code, benefit_year=benefit_year)
        state = "refreshed"
    elif stale:
        progress_refresh_enqueue(county_code=county_code, benefit_year=benefit_year, actor=AUTO_RECOUNT)
        state = "queued"
    else:
        state = "fresh"
    if snapshots.is_past(on):
        snapshots.snapshot_ensure(county_code=county_code, benefit_year=benefit_year, day=on)
    return state


def progress_refresh_enqueue(*, county_code: str, benefit_year: int, actor=None):
    """Queue a refresh job unless one is already waiting or running; returns the job."""
    from yibao.core.jobs import job_enqueue
    from yibao.core.models import Job
    from yibao.core.services import job_create

    pending = Job.objects.filter(
        kind="progress_refresh", county_code=county_code, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).filter(params__benefit_year=benefit_year).first()
    if pending is not None:
        return pending
    job = job_create(kind="progress_refresh", county_code=county_code, params={"benefit_year": benefit_year}, actor=actor)
    return job_enqueue(job)


# ---------------------------------------------------------------- 催缴 marks


@transaction.atomic
def remind_mark(*, actor, resident: Resident, benefit_year: int, outcome: str, note: str = "") -> RemindMark:
    """Mark one of last year's enrollees: 已联系 or 拒缴 (records: the person stays on the list, 拒缴 counted
    apart and with a required 说明), or 已迁出 / 已参加职工医保 / 已死亡.

    The last three end the enrollment through the enrollment services (迁出、职工医保: 参保暂停 of last
    year's cover, which runs to 31 December; 死亡: 参保终止), free this year's unpaid registration,
    and update the register (迁出、死亡: the resident's status; 职工医保: a flag the county confirms).
    """
    from yibao.enrollment.services import enrollment_end
    from yibao.registry.models import Flag
    from yibao.registry.services import flag_create, resident_status_change

    scope = _scope(actor, "remind.mark")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if scope is not None:
        scope.require_region(resident.village_code)
    note = (note or "").strip()
    if outcome not in RemindMark.Outcome.values:
        raise ValidationError({"outcome": f"未知的催缴结果：{outcome}（应为已联系、拒缴、已迁出、已参加职工医保或已死亡）"})
    if len(note) > 300:
        raise ValidationError({"note": "说明不能超过300个字。"})
    label = RemindMark.Outcome(outcome).label
    last = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=benefit_year - 1).first()
    if not selectors.was_covered(last):
        raise ValidationError(f"{resident.name} 上年度（{benefit_year - 1}年度）未在本县参保，不在催缴名单中。")
    this = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=benefit_year).first()
    if this is not None and this.status == Enrollment.Status.PAID:
        raise ValidationError(
            f"{resident.name} 已缴纳{benefit_year}年度参保费；如已迁出、参加职工医保或死亡，请办理参保暂停（终止）和退费。"
        )
    if outcome != RemindMark.Outcome.CONTACTED and not note:
        example = ("如：不愿参保的原因、由谁何时上门" if outcome == RemindMark.Outcome.REFUSED
                   else "如：2024年10月迁往合肥市、已在某单位参加职工医保、死亡日期")
        raise ValidationError({"note": f"标记“{label}”须填写说明（{example}）。"})
    reason = f"催缴核实：{label}" + (f"（{note}）" if note else "")
    effects: list[str] = []
    if outcome in (RemindMark.Outcome.MOVED_AWAY, RemindMark.Outcome.EMPLOYEE):
        if last.status == Enrollment.Status.PAID:
            enrollment_end(enrollment=last, action="suspend", reason=reason, actor=actor, release_claim=False)
            effects.append(f"{benefit_year - 1}年度参保关系已暂停（待遇享受至年底）")
        if this is not None and this.status == Enrollment.Status.REGISTERED:
            enrollment_end(enrollment=this, action="suspend", reason=reason, actor=actor, release_claim=True)
            effects.append(f"{benefit_year}年度未缴费的参保登记已暂停")
    elif outcome == RemindMark.Outcome.DECEASED:
        if last.status != Enrollment.Status.TERMINATED:
            enrollment_end(enrollment=last, action="terminate", reason=reason, actor=actor, release_claim=False)
            effects.append(f"{benefit_year - 1}年度参保关系已终止")
        if this is not None and this.status in (Enrollment.Status.REGISTERED, Enrollment.Status.SUSPENDED):
            enrollment_end(enrollment=this, action="terminate", reason=reason, actor=actor, release_claim=True)
            effects.append(f"{benefit_year}年度参保登记已终止")
    if outcome == RemindMark.Outcome.MOVED_AWAY and resident.status == Resident.Status.ACTIVE:
        resident_status_change(actor=actor, resident=resident, status=Resident.Status.MOVED_AWAY, reason=reason, source="remind")
        effects.append("户籍状态改为已迁出")
    elif outcome == RemindMark.Outcome.DECEASED and resident.status != Resident.Status.DECEASED:
        resident_status_change(actor=actor, resident=resident, status=Resident.Status.DECEASED, reason=reason, source="remind")
        effects.append("户籍状态改为已死亡")
    elif outcome == RemindMark.Outcome.EMPLOYEE:
        flag_create(actor=actor, resident=resident, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail=f"催缴核实：{note}")
        effects.append("已标记“已参加职工医保”，待县医保局核实")
    who = actor_fields(actor)
    mark = RemindMark.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        benefit_year=benefit_year, resident=resident, outcome=outcome, note=note,
        marked_by=who["actor"], marked_by_name=who["actor_name"],
    )
    event_record(
        county_code=resident.county_code, entity="remind", entity_id=resident.pk, action=outcome, actor=actor,
        after={"benefit_year": benefit_year, "outcome": outcome, "note": note, "mark": mark.pk, "effects": effects},
        reason=reason,
    )
    if effects or outcome == RemindMark.Outcome.REFUSED:  # 拒缴 moves the day's 其中拒缴 figure
        progress_refresh(county_code=resident.county_code, benefit_year=benefit_year, village_codes=[resident.village_code])
    mark.effects = effects
    return mark

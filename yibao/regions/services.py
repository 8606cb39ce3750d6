"""Writes of the region tree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from yibao.core.services import event_record
from yibao.regions.models import Region
from yibao.regions.seeds import read_seed_regions


class RegionDataError(ValueError):
    """Bad region rows; `errors` lists one Chinese message per fault, naming the row."""

    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors[:5]) + (f"……共{len(errors)}处错误" if len(errors) > 5 else ""))
        self.errors = errors


def _check_rows(rows: list[tuple[str, str]], known: set[str]) -> list[str]:
    errors, seen = [], {}
    batch = {code for code, _ in rows}
    for line, (code, name) in enumerate(rows, start=1):
        where = f"第{line}行"
        if not (code.isdigit() and len(code) in (2, 4, 6, 9, 12)):
            errors.append(f"{where}：区划代码“{code}”应为2位（省）、4位（市）、6位（县）、9位（乡镇）或12位（村、社区）数字")
            continue
        if not name:
            errors.append(f"{where}：区划代码 {code} 缺少名称")
        if len(name) > 100:
            errors.append(f"{where}：名称“{name[:20]}…”超过100个字")
        if code in seen:
            errors.append(f"{where}：区划代码 {code} 与第{seen[code]}行重复")
        seen[code] = line
        parent = Region.parent_code_of(code)
        if parent and parent not in known and parent not in batch:
            errors.append(f"{where}：{name or code}（{code}）的上级 {parent} 不存在，请先导入上级区划")
    return errors


@transaction.atomic
def region_upsert_many(*, rows: Iterable[tuple[str, str]], actor=None, reason: str = "") -> dict:
    """Create or rename regions (code, name); all rows or none. Parents may come earlier in the same rows."""
    rows = [(str(code).strip(), str(name or "").strip()) for code, name in rows]
    existing = dict(Region.objects.values_list("code", "name"))
    errors = _check_rows(rows, set(existing))  # row numbers as given
    if errors:
        raise RegionDataError(errors)
    rows.sort(key=lambda r: (len(r[0]), r[0]))  # parents first
    created, renamed, unchanged = [], [], 0
    by_county: dict[str, dict] = defaultdict(lambda: {"created": 0, "renamed": 0})
    present = set(existing) | {code for code, _ in rows}
    for code, name in rows:
        if code not in existing:
            upper = Region.upper_code_of(code)
            parent = Region.parent_code_of(code) or (upper if upper in present else None)
            created.append(Region(code=code, name=name, level=len(code), parent_id=parent, county_code=code[:6]))
            by_county[_log_county(code)]["created"] += 1
        elif existing[code] != name:
            renamed.append((code, existing[code], name))
            by_county[_log_county(code)]["renamed"] += 1
        else:
            unchanged += 1
    Region.objects.bulk_create(created, batch_size=2000)
    for region in created:  # a city or province loaded after the counties or cities under it adopts them
        if region.level in (Region.Level.PROVINCE, Region.Level.CITY):
            Region.objects.filter(level=region.level + 2, code__startswith=region.code, parent__isnull=True).update(
                parent_id=region.code
            )
    for code, _old, name in renamed:
        Region.objects.filter(code=code).update(name=name)
    for county_code, counts in by_county.items():
        event_record(
            county_code=county_code, entity="region", entity_id=county_code or "above_county", action="import",
            actor=actor, after={**counts, "renamed_codes": [c for c, _o, _n in renamed if _log_county(c) == county_code][:50]},
            reason=reason or "导入行政区划",
        )
    return {"rows": len(rows), "created": len(created), "renamed": len(renamed), "unchanged": unchanged}


def _log_county(code: str) -> str:
    """The change log a region's import goes to: its county's; provinces and cities the install-wide one ("")."""
    return code[:6] if len(code) >= 6 else ""


def regions_load_seed(*, actor=None) -> dict:
    """Load the seed regions (崇阳县肖岭乡 and its 10 villages, 随县 and its 18 towns). Running it twice changes nothing."""
    return region_upsert_many(rows=read_seed_regions(), actor=actor, reason="载入种子通知中的区划（乡镇、村代码为构造代码）")

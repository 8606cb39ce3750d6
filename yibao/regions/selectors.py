"""Reads of the region tree, always within a user's scope."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404

from yibao.accounts.scope import LEVEL_FIELD
from yibao.regions.models import Region


def region_name(code: str) -> str:
    """The region's name, or the code itself when the region is not loaded."""
    name = Region.objects.filter(code=code).values_list("name", flat=True).first()
    return name or code


def county_label(code: str) -> str:
    """How a message names a county: its name (随县、怀远县), or "421321 县" when it is not loaded."""
    return county_labels([code])[code]


def county_labels(codes) -> dict[str, str]:
    """county_label of several counties in one query (a file's lines name other counties)."""
    codes = {str(c) for c in codes if c}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return {c: names.get(c) or f"{c} 县" for c in codes}


def ancestor_codes(code: str) -> list[str]:
    """The codes above and including `code`: 421223200201 → [421223, 421223200, 421223200201]."""
    return [code[:n] for n in (6, 9, 12) if n <= len(code)]


def region_path(code: str) -> list[Region]:
    """The region and its loaded ancestors, province and city first (for breadcrumbs)."""
    codes = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def region_label(code: str, *, from_level: int = 9) -> str:
    """'肖岭乡 / 白马' for a village: names from `from_level` down, or the code when unknown."""
    names = [r.name for r in region_path(code) if r.level >= from_level]
    return " / ".join(names) or code


def region_labels(codes) -> dict[str, str]:
    """Labels for many codes in two queries ('肖岭乡 / 白马'), for lists."""
    codes = {c for c in codes if c}
    wanted = codes | {c[:9] for c in codes if len(c) == 12}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    labels = {}
    for code in codes:
        parts = [names.get(code[:9])] if len(code) == 12 else []
        parts.append(names.get(code))
        labels[code] = " / ".join(p for p in parts if p) or code
    return labels


def region_roots(*, scope) -> list[Region]:
    """Where a user's tree starts: their own region (a city's tree starts at the city), or, for a
    superuser without one, every region with no loaded parent (provinces, and counties loaded alone)."""
    if scope.region_code:
        return list(Region.objects.filter(code=scope.region_code))
    return list(Region.objects.filter(parent__isnull=True, level__lte=Region.Level.COUNTY).order_by("code"))


def region_get(*, scope, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404(f"区划代码 {code} 不存在。")
    if not scope.contains(code):
        raise PermissionDenied(f"区划 {code} 不在当前账号的管辖范围内。")
    return region


def region_list(*, scope, level: int | None = None, parent: str | None = None):
    regions = Region.objects.all()
    if scope.region_code:
        regions = regions.filter(code__startswith=scope.region_code)
    if level:
        regions = regions.filter(level=level)
    if parent:
        regions = regions.filter(parent_id=parent)
    return regions.order_by("code")


def region_options(*, scope, level: int | None = None) -> list[tuple[str, str]]:
    """(code, '肖岭乡 / 白马（421223200201）') for the selects of forms, within the scope."""
    regions = list(region_list(scope=scope, level=level))
    labels = region_labels([r.code for r in regions])
    return [(r.code, f"{labels[r.code] if r.level > 6 else r.name}（{r.code}）") for r in regions]


def _counts_by(field: str, **filters) -> tuple[dict, dict]:
    from yibao.registry.models import Household, Resident

    residents = dict(
        Resident.objects.filter(status=Resident.Status.ACTIVE, **filters)
        .values_list(field).annotate(n=Count("id")).values_list(field, "n")
    )
    households = dict(Household.objects.filter(**filters).values_list(field).annotate(n=Count("id")).values_list(field, "n"))
    return residents, households


def _counts_above_county(code: str, child_length: int) -> tuple[dict, dict]:
    """Counts of a city's or province's children, summed from its counties (people carry no city code)."""
    residents, households = _counts_by("county_code", county_code__startswith=code)
    by_child: tuple[dict, dict] = ({}, {})
    for source, target in zip((residents, households), by_child):
        for county, n in source.items():
            target[county[:child_length]] = target.get(county[:child_length], 0) + n
    return by_child


def region_counts(*, code: str) -> dict:
    """Residents on the register (正常) and households in one region."""
    if len(code) < 6:
        residents, households = _counts_above_county(code, len(code))
        return {"residents": residents.get(code, 0), "households": households.get(code, 0)}
    field = LEVEL_FIELD[len(code)]
    residents, households = _counts_by(field, **{"county_code": code[:6], field: code})
    return {"residents": residents.get(code, 0), "households": households.get(code, 0)}


def region_children(*, scope, code: str) -> list[dict]:
    """The children of a region inside the scope, each with its resident and household counts."""
    region = region_get(scope=scope, code=code)
    children = list(region.children.order_by("code"))  # all inside the scope, as the region is
    if not children:
        return []
    if len(code) < 6:  # a city's counties, a province's cities
        residents, households = _counts_above_county(code, len(children[0].code))
    else:
        child_field = LEVEL_FIELD[len(children[0].code)]
        parent_field = LEVEL_FIELD[len(code)]
        residents, households = _counts_by(child_field, **{"county_code": code[:6], parent_field: code})
    return [
        {"region": c, "residents": residents.get(c.code, 0), "households": households.get(c.code, 0)}
        for c in children
    ]


# ---------------------------------------------------------------- the county a city or province account works on


def scope_counties(*, scope) -> list[tuple[str, str]]:
    """(code, name) of the loaded counties inside a scope: a city's or province's counties, every county for
    a superuser without a region, the own county of a county, township or village account."""
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    if scope.region_code:
        counties = counties.filter(code__startswith=scope.region_code[:6])
    return list(counties.order_by("code").values_list("code", "name"))


def county_pick(*, scope, requested: str | None = None) -> str:
    """The county a county-level page works on: a county (township, village) account's own; for a city,
    province or superuser the one asked for (?county=) inside the scope, or a city's only county; "" while
    it must still be chosen (the page says 请选择县（区）)."""
    if scope.region_code and not scope.above_county:
        return scope.county_code
    code = (requested or "").strip()
    if code:
        if not (len(code) == 6 and code.isdigit()):
            raise PermissionDenied(f"县（区）代码 {code[:20]} 应为 6 位数字。")
        if not scope.covers_county(code):
            raise PermissionDenied(f"县（区）{code} 不在当前账号的管辖范围内。")
        return code
    if scope.above_county:
        counties = scope_counties(scope=scope)
        if len(counties) == 1:
            return counties[0][0]
    return ""

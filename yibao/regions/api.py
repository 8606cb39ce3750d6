"""API of the region tree: GET /api/regions and GET /api/regions/{code}."""

from ninja import Router, Schema

from yibao.core.api_types import RegionLevel
from yibao.regions import selectors
from yibao.regions.models import Region

router = Router(tags=["行政区划"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    level_label: str
    kind: str
    parent_code: str | None
    county_code: str


class RegionChildOut(RegionOut):
    residents: int
    households: int


class RegionDetailOut(RegionOut):
    residents: int
    households: int
    path: list[RegionOut]
    children: list[RegionChildOut]


def _out(region: Region) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "level_label": region.get_level_display(),
        "kind": region.kind_label,
        "parent_code": region.parent_id,
        "county_code": region.county_code,
    }


@router.get("/regions", response=list[RegionOut], summary="当前账号管辖范围内的行政区划")
def region_list(request, level: RegionLevel | None = None, parent: str | None = None):
    """按层级（6 县、9 乡镇、12 村）或上级代码筛选；只返回账号管辖范围内的区划。"""
    request.auth.require("regions.view")
    if parent:
        selectors.region_get(scope=request.auth, code=parent)
    return [_out(r) for r in selectors.region_list(scope=request.auth, level=level, parent=parent)]


@router.get("/regions/{code}", response=RegionDetailOut, summary="一个区划及其下级（含在册人数）")
def region_detail(request, code: str):
    request.auth.require("regions.view")
    region = selectors.region_get(scope=request.auth, code=code)
    counts = selectors.region_counts(code=code)
    children = [
        {**_out(c["region"]), "residents": c["residents"], "households": c["households"]}
        for c in selectors.region_children(scope=request.auth, code=code)
    ]
    return {**_out(region), **counts, "path": [_out(r) for r in selectors.region_path(code)], "children": children}

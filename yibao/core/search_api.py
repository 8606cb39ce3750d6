"""API of the top bar's search: GET /api/search?q= (the same answers as the page, within the caller's scope)."""

from ninja import Field, Query, Router, Schema

from yibao.core.idnumber import mask_id_numbers_in
from yibao.core.inputs import BadInput
from yibao.core.search import search_everything

router = Router(tags=["查找"])


class SearchHitOut(Schema):
    kind: str = Field(description="person（参保人）、household（家庭户）、receipt（票据）或 payment（缴费）")
    kind_label: str
    id: int
    title: str
    detail: str = Field(description="身份证号码按账号权限脱敏，户号、金额、状态等")
    village: str
    matched: str = Field(description="匹配项：身份证号、身份证号尾号、姓名、户号、票据号或缴费流水号")
    exact: bool = Field(description="完整号码或完整姓名匹配（不是前缀或尾号）")
    url: str


class SearchOut(Schema):
    q: str
    best: SearchHitOut | None = Field(description="唯一明确的匹配（回车直接打开的那一条），没有则为 null")
    results: list[SearchHitOut]
    truncated: bool = Field(description="某一类结果超过 limit 条，未全部列出")


@router.get("/search", response=SearchOut,
            summary="查找：身份证号（完整或尾号4位以上）、姓名、户号、票据号或缴费流水号，限本账号管辖范围")
def search(request, q: str = "", limit: int = Query(20, ge=1, le=200)):
    scope = request.auth
    scope.require("registry.view")
    result = search_everything(scope, q, limit=limit)
    if result.hint:
        raise BadInput(result.hint, field="q")
    best = result.best
    q = result.q if scope.full_id else mask_id_numbers_in(result.q)  # echoed as the role may see it
    return {"q": q, "best": best.as_dict() if best else None, "results": [h.as_dict() for h in result.hits],
            "truncated": result.truncated}

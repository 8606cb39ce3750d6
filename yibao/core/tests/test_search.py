"""The top bar's search: the selector (each kind of query, region, masking, indexes), page, API and CLI."""

import datetime as dt
import json
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from typer.testing import CliRunner

from yibao.accounts.scope import scope_for
from yibao.collection.models import Payment, Receipt
from yibao.core.search import HINT, search_everything
from yibao.registry.models import Resident
from yibao.registry.tests.factories import make_household, make_id, make_resident
from yibao.registry.tests.fixtures import BAIMA, CHENGDONG, SHENNONG, SUOSHI, admin, collector, regions, staff  # noqa: F401

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(staff):
    """白马: 郑父's household H-BM-1 (郑父, 郑子) and 郑小; 索市: 郑远; 城东 (another township): 郑东; 随县: 郑外."""
    home, (head, son) = make_household(BAIMA, "H-BM-1", "郑父", "郑子")
    alone = make_resident(BAIMA, "郑小", id_number=make_id("421223", dt.date(1990, 1, 2), seq="123"))
    far = make_resident(SUOSHI, "郑远", id_number=make_id("421223", dt.date(1991, 2, 3), seq="557"))
    east = make_resident(CHENGDONG, "郑东", id_number=make_id("421223", dt.date(1992, 3, 4), seq="559"))
    other = make_resident(SHENNONG, "郑外", id_number=make_id("421321", dt.date(1993, 4, 5), seq="561"))
    return {"home": home, "head": head, "son": son, "alone": alone, "far": far, "east": east, "other": other}


def _scope(staff, role):
    return scope_for(staff[role])


def _receipt(resident, no="421223-2025-0000007"):
    return Receipt.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        benefit_year=2025, number=int(no[-7:]), receipt_no=no, payer_name=resident.name, total=Decimal("400.00"),
        channel="cash", household=resident.household,
    )


def _payment(resident=None, *, external_id="WX-20241008-0001", id_number=None, village=BAIMA):
    return Payment.objects.create(
        county_code=village[:6], township_code=village[:9], village_code=village, campaign_id=1, benefit_year=2025,
        resident=resident, id_number=id_number or resident.id_number, source="file", channel="wechat",
        external_id=external_id, amount=Decimal("400.00"), paid_at=dt.datetime(2024, 10, 8, 10, tzinfo=SHANGHAI),
        paid_on=dt.date(2024, 10, 8), status="booked" if resident else "flagged",
    )


def titles(result):
    return [h.title for h in result.hits]


# ---------------------------------------------------------------- the selector: each kind of query


def test_whole_id_number_finds_the_person_with_the_number_shown_as_the_role_may(world, staff):
    son = world["son"]
    found = search_everything(_scope(staff, "village_collector"), son.id_number)
    assert titles(found) == ["郑子"] and found.hits[0].matched == "身份证号" and found.best.pk == son.pk
    assert son.id_number in found.hits[0].detail and "户号 H-BM-1" in found.hits[0].detail
    assert found.hits[0].village == "肖岭乡 / 白马"
    masked = search_everything(_scope(staff, "auditor"), son.id_number.lower())  # an x typed in lower case too
    assert titles(masked) == ["郑子"]
    assert son.id_number not in masked.hits[0].detail and son.id_number[-4:] in masked.hits[0].detail
    assert "********" in masked.hits[0].detail


def test_whole_id_number_typed_with_spaces_is_one_number(world, staff):
    number = world["head"].id_number
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert titles(search_everything(_scope(staff, "county_admin"), spaced)) == ["郑父"]


@pytest.mark.parametrize("digits", [4, 5, 6])
def test_last_digits_find_the_person(world, staff, digits):
    alone = world["alone"]
    found = search_everything(_scope(staff, "county_admin"), alone.id_number[-digits:])
    assert alone.pk in [h.pk for h in found.hits if h.kind == "person"]
    assert all(h.matched == "身份证号尾号" and not h.exact for h in found.hits if h.kind == "person")


def test_fewer_than_four_digits_find_no_one(world, staff):
    found = search_everything(_scope(staff, "county_admin"), world["alone"].id_number[-3:])
    assert found.hits == [] and found.hint == ""


def test_name_whole_or_its_start(world, staff):
    scope = _scope(staff, "village_collector")
    assert titles(search_everything(scope, "郑")) == ["郑子", "郑小", "郑父"]  # name order, 白马 only
    whole = search_everything(scope, "郑小")
    assert titles(whole) == ["郑小"] and whole.hits[0].exact and whole.best.pk == world["alone"].pk
    make_resident(BAIMA, "郑小明")
    both = search_everything(scope, "郑小")
    assert titles(both) == ["郑小", "郑小明"] and both.best.title == "郑小"  # the whole name is the clear match
    assert search_everything(scope, "郑小明").best.title == "郑小明"


def test_two_people_with_one_name_have_no_best_match(world, staff):
    make_resident(BAIMA, "郑小")
    found = search_everything(_scope(staff, "village_collector"), "郑小")
    assert titles(found) == ["郑小", "郑小"] and found.best is None


def test_household_number(world, staff):
    found = search_everything(_scope(staff, "township_officer"), "H-BM-1")
    assert [(h.kind, h.title) for h in found.hits] == [("household", "户号 H-BM-1")]
    assert found.hits[0].detail == "户主 郑父" and found.best.url == f"/registry/households/{world['home'].pk}/"


def test_receipt_number_whole_or_without_the_county(world, staff):
    receipt = _receipt(world["head"])
    scope = _scope(staff, "village_collector")
    for q in ("421223-2025-0000007", "2025-0000007", "2025-7"):
        found = search_everything(scope, q)
        assert [(h.kind, h.pk) for h in found.hits] == [("receipt", receipt.pk)], q
        assert found.best.url == f"/collection/receipts/{receipt.pk}/"
    assert "400.00 元" in found.hits[0].detail


def test_payment_serial_and_a_payment_for_no_one(world, staff):
    paid = _payment(world["head"])
    found = search_everything(_scope(staff, "tax_officer"), "WX-20241008-0001")
    assert [(h.kind, h.pk, h.matched) for h in found.hits] == [("payment", paid.pk, "缴费流水号")]
    assert "郑父" in found.hits[0].detail and found.best.url == f"/collection/payments/{paid.pk}/"
    stranger = make_id("421223", dt.date(1970, 1, 1), seq="901")
    orphan = _payment(external_id="WX-2", id_number=stranger)
    by_number = search_everything(_scope(staff, "county_admin"), stranger)
    assert [(h.kind, h.pk, h.matched) for h in by_number.hits] == [("payment", orphan.pk, "身份证号")]
    assert "查无此人" in by_number.hits[0].detail


def test_receipts_and_payments_need_payments_view(world, staff):
    _receipt(world["head"])
    _payment(world["head"])
    from yibao.accounts.scope import Scope

    no_money = Scope(role="department_clerk", region_code="421223")  # registry.view is not theirs either
    assert search_everything(no_money, "WX-20241008-0001").hits == []
    assert search_everything(no_money, "421223-2025-0000007").hits == []


# ---------------------------------------------------------------- region: nothing outside the scope, not even a hint


@pytest.mark.parametrize("role, outside", [
    ("village_collector", "far"), ("village_collector", "east"), ("township_officer", "east"),
    ("county_admin", "other"), ("auditor", "other"),
])
def test_no_one_outside_the_region_is_found_by_any_query(world, staff, role, outside):
    person = world[outside]
    scope = _scope(staff, role)
    for q in (person.id_number, person.id_number[-6:], person.id_number[-4:], person.name, person.name[:1]):
        found = search_everything(scope, q)
        assert person.pk not in [h.pk for h in found.hits if h.kind == "person"], (role, q)
        assert all(person.name not in h.title for h in found.hits)


def test_township_officer_finds_every_village_of_the_township(world, staff):
    found = search_everything(_scope(staff, "township_officer"), "郑")
    assert set(titles(found)) == {"郑父", "郑子", "郑小", "郑远"}


def test_receipts_and_payments_outside_the_region_are_not_found(world, staff):
    _receipt(world["far"], no="421223-2025-0000009")
    _payment(world["far"], external_id="WX-FAR", village=SUOSHI)
    scope = _scope(staff, "village_collector")
    assert search_everything(scope, "421223-2025-0000009").hits == []
    assert search_everything(scope, "WX-FAR").hits == []
    assert len(search_everything(_scope(staff, "township_officer"), "WX-FAR").hits) == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("q, words", [
    ("", HINT), ("   ", HINT), ("名" * 65, "输入过长"), ("<script>", "无法查找的字符"), ("郑%", "无法查找的字符"),
    ("\u202e郑", "无法查找的字符"), ("a'; drop table", "无法查找的字符"),
])
def test_bad_input_gives_the_hint(world, staff, q, words):
    found = search_everything(_scope(staff, "county_admin"), q)
    assert found.hits == [] and words in found.hint and HINT in found.hint


def test_limit_caps_each_kind_and_says_so(world, staff):
    for i in range(5):
        make_resident(BAIMA, f"郑多{i}")
    found = search_everything(_scope(staff, "village_collector"), "郑", limit=3)
    assert len(found.hits) == 3 and found.truncated and found.best is None


def test_suggestions_share_the_places_among_the_kinds(world, staff):
    world["head"].household.number = "郑"  # a household numbered like the name typed (odd, but possible)
    world["head"].household.save()
    for i in range(9):
        make_resident(BAIMA, f"郑多{i}")
    found = search_everything(_scope(staff, "village_collector"), "郑", limit=8)
    first = found.first(8)
    assert len(first) == 8 and [h.kind for h in first].count("household") == 1


# ---------------------------------------------------------------- speed: the lookups use indexes


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(row) for row in cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's planner")
def test_last_digits_and_names_use_indexes_not_a_scan_of_the_county(world):
    from yibao.registry.models import IdTail

    base = Resident.objects.filter(county_code="421223")
    tail = base.alias(id_tail=IdTail("id_number")).filter(id_tail="1234", id_number__endswith="01234")
    assert "resident_id_tail" in _plan(tail)
    name = base.filter(name__startswith="郑", name__gte="郑", name__lt="郑\U0010ffff")
    assert "name>" in _plan(name)  # a range on (county_code, name)
    assert "SCAN registry_resident" not in _plan(tail) + _plan(name)


# ---------------------------------------------------------------- pages


def test_the_box_is_in_the_top_bar_for_roles_that_view_residents(client, world, staff):
    client.force_login(staff["village_collector"])
    body = client.get("/").content.decode()
    assert 'class="search-box"' in body and 'hx-get="/search/suggest/"' in body
    client.force_login(staff["department_clerk"])
    assert 'class="search-box"' not in client.get("/").content.decode()
    assert client.get("/search/", {"q": "郑"}).status_code == 403
    assert client.get("/search/suggest/", {"q": "郑"}).status_code == 403


def test_suggestions_partial(client, world, staff):
    client.force_login(staff["auditor"])
    response = client.get("/search/suggest/", {"q": "郑父"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "郑父" in body and "参保人" in body and f"/registry/residents/{world['head'].pk}/" in body
    assert world["head"].id_number not in body and world["head"].id_number[-4:] in body
    assert client.get("/search/suggest/", {"q": ""}).content == b""
    assert HINT in client.get("/search/suggest/", {"q": "<b>"}).content.decode()
    assert "没有找到“郑外”" in client.get("/search/suggest/", {"q": "郑外"}).content.decode()


def test_enter_opens_the_one_clear_match(client, world, staff):
    client.force_login(staff["village_collector"])
    response = client.get("/search/", {"q": world["son"].id_number})
    assert response.status_code == 302 and response.url == f"/registry/residents/{world['son'].pk}/"
    assert client.get("/search/", {"q": "H-BM-1"}).url == f"/registry/households/{world['home'].pk}/"
    receipt = _receipt(world["head"])
    assert client.get("/search/", {"q": receipt.receipt_no}).url == f"/collection/receipts/{receipt.pk}/"


def test_enter_lists_several_matches_and_all_lists_even_one(client, world, staff):
    client.force_login(staff["village_collector"])
    response = client.get("/search/", {"q": "郑"})
    body = response.content.decode()
    assert response.status_code == 200 and "找到 3 条" in body
    assert all(name in body for name in ("郑父", "郑子", "郑小")) and "郑远" not in body
    assert 'value="郑"' in body  # the box keeps what was typed
    one = client.get("/search/", {"q": world["son"].id_number, "all": "1"})
    assert one.status_code == 200 and "郑子" in one.content.decode()


def test_results_page_paginates(client, world, staff):
    for i in range(55):
        make_resident(BAIMA, f"钱{i:02d}")
    client.force_login(staff["village_collector"])
    first = client.get("/search/", {"q": "钱"}).content.decode()
    assert "找到 55 条" in first and "第 1 / 2 页" in first and "钱00" in first and "钱54" not in first
    second = client.get("/search/", {"q": "钱", "page": "2"}).content.decode()
    assert "钱54" in second and "钱00" not in second


@pytest.mark.parametrize("q", ["", "名" * 300, "\u202e名", "%%%", "1" * 64, "x" * 2000])
def test_results_page_bad_input_is_a_hint_not_an_error(client, world, staff, q):
    client.force_login(staff["county_admin"])
    response = client.get("/search/", {"q": q, "page": "abc"})
    assert response.status_code == 200
    body = response.content.decode()
    assert HINT in body or "没有找到" in body


def test_the_page_echoes_a_typed_number_masked_for_a_masked_role(client, world, staff):
    client.force_login(staff["auditor"])
    number = world["son"].id_number
    body = client.get("/search/", {"q": number, "all": "1"}).content.decode()
    assert "郑子" in body and f"查找：{number[:6]}********{number[-4:]}" in body


def test_enter_by_a_number_outside_the_region_says_not_found(client, world, staff):
    client.force_login(staff["village_collector"])
    far = world["far"]
    body = client.get("/search/", {"q": far.id_number}).content.decode()
    assert "没有找到" in body and "郑远" not in body


# ---------------------------------------------------------------- API


def test_api_search(client, world, staff):
    client.force_login(staff["auditor"])
    data = client.get("/api/search", {"q": world["son"].id_number}).json()
    assert data["best"]["kind"] == "person" and data["best"]["id"] == world["son"].pk
    assert world["son"].id_number not in json.dumps(data, ensure_ascii=False)
    assert [r["title"] for r in data["results"]] == ["郑子"] and data["truncated"] is False
    several = client.get("/api/search", {"q": "郑", "limit": 2}).json()
    assert several["best"] is None and len(several["results"]) == 2 and several["truncated"] is True


def test_api_search_refusals(client, world, staff):
    assert client.get("/api/search", {"q": "郑"}).status_code == 401
    client.force_login(staff["department_clerk"])
    assert client.get("/api/search", {"q": "郑"}).status_code == 403
    client.force_login(staff["village_collector"])
    bad = client.get("/api/search", {"q": "<b>"})
    assert bad.status_code == 400 and HINT in bad.json()["detail"]
    assert client.get("/api/search", {"q": ""}).status_code == 400
    assert client.get("/api/search", {"q": "郑", "limit": 0}).status_code == 422
    assert client.get("/api/search", {"q": world["far"].id_number}).json()["results"] == []


def test_api_declares_its_refusals():
    from yibao.api import api

    schema = api.get_openapi_schema()
    responses = schema["paths"]["/api/search"]["get"]["responses"]
    assert {200, 400, 401, 403, 404, 422} <= set(responses)


# ---------------------------------------------------------------- CLI


def _find(*args):
    from yibao.cli import app

    return CliRunner().invoke(app, ["find", *map(str, args)])


def test_cli_find(world):
    result = _find(world["son"].id_number[-6:], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["best"]["title"] == "郑子" and world["son"].id_number in data["best"]["detail"]
    text = _find("郑父")
    assert text.exit_code == 0 and "郑父" in text.stdout and "最佳匹配" in text.stdout


def test_cli_find_within_a_region_and_refusals(world):
    assert _find("郑外", "--region", BAIMA).exit_code == 1  # not in 白马
    inside = json.loads(_find("郑", "--region", BAIMA, "--json").stdout)
    assert {r["title"] for r in inside["results"]} == {"郑父", "郑子", "郑小"}
    bad = _find("郑", "--region", "12x")
    assert bad.exit_code == 2 and "区划代码" in bad.output
    odd = _find("<b>")
    assert odd.exit_code == 2 and HINT in odd.output

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from yibao.accounts.scope import scope_for
from yibao.registry import selectors
from yibao.registry.models import Flag, Resident
from yibao.registry.tests.factories import give_identity, make_household, make_id, make_resident
from yibao.registry.tests.fixtures import BAIMA, CHENGDONG, SHENNONG, SUOSHI, TIANCHENG, XIAOLING


@pytest.fixture
def people(regions):
    _, baima = make_household(BAIMA, "H1", "张父", "张子", "张女")
    _, suoshi = make_household(SUOSHI, "H2", "李母")
    _, chengdong = make_household(CHENGDONG, "H3", "王叔")
    _, shennong = make_household(SHENNONG, "H4", "张父")  # same name, other county
    return {"baima": baima, "suoshi": suoshi, "chengdong": chengdong, "shennong": shennong}


def names(queryset):
    return sorted(r.name for r in queryset)


# ---------------------------------------------------------------- search


def test_search_by_whole_id_number_uses_the_index(people, admin):
    son = people["baima"][1]
    scope = scope_for(admin)
    with CaptureQueriesContext(connection) as queries:
        found = list(selectors.resident_search(scope=scope, q=son.id_number.lower()))
    assert found == [son]
    sql = queries.captured_queries[0]["sql"]
    assert '"id_number" = ' in sql and '"county_code" = ' in sql


def test_search_by_old_15_digit_number_and_by_last_digits(people, admin):
    scope = scope_for(admin)
    head = make_resident(BAIMA, "老刘", id_number=make_id("421223", dt.date(1950, 4, 5), seq="171"))
    assert list(selectors.resident_search(scope=scope, q="421223500405171")) == [head]
    assert head in selectors.resident_search(scope=scope, q=head.id_number[-6:])


def test_search_by_name_exact_or_prefix(people, admin):
    scope = scope_for(admin)
    assert names(selectors.resident_search(scope=scope, q="张父")) == ["张父"]  # the 随县 one stays out
    assert names(selectors.resident_search(scope=scope, q="张")) == ["张女", "张子", "张父"]


def test_search_stays_inside_the_scope(people, staff):
    collector, officer = scope_for(staff["village_collector"]), scope_for(staff["township_officer"])
    assert names(selectors.resident_search(scope=collector)) == ["张女", "张子", "张父"]
    assert names(selectors.resident_search(scope=collector, q="李母")) == []
    assert names(selectors.resident_search(scope=officer)) == ["张女", "张子", "张父", "李母"]
    assert names(selectors.resident_search(scope=officer, region=SUOSHI)) == ["李母"]
    with pytest.raises(PermissionDenied):
        selectors.resident_search(scope=collector, region=SUOSHI)
    with pytest.raises(PermissionDenied):
        selectors.resident_search(scope=officer, region=TIANCHENG)


def test_search_filters_status_and_flags(people, admin):
    scope = scope_for(admin)
    son, daughter = people["baima"][1], people["baima"][2]
    son.status = Resident.Status.MOVED_AWAY
    son.save()
    Flag.objects.create(county_code="421223", resident=daughter, kind=Flag.Kind.OTHER_COUNTY)
    assert son not in selectors.resident_search(scope=scope)
    assert son in selectors.resident_search(scope=scope, status=None)
    assert list(selectors.resident_search(scope=scope, flagged=True)) == [daughter]


def test_get_outside_the_scope_is_not_found(people, collector):
    scope = scope_for(collector)
    assert selectors.resident_get(scope=scope, pk=people["baima"][0].pk).name == "张父"
    with pytest.raises(Http404):
        selectors.resident_get(scope=scope, pk=people["suoshi"][0].pk)
    with pytest.raises(Http404):
        selectors.household_get(scope=scope, pk=people["suoshi"][0].household_id)


def test_household_members_head_first(people, admin):
    head = people["baima"][0]
    members = selectors.household_members(household=head.household)
    assert members[0] == head and len(members) == 3


def test_resident_detail_gathers_identities_facts_flags_events(people, admin):
    from yibao.registry import services

    head = people["baima"][0]
    give_identity(head, "dibao", valid_to=dt.date(2020, 1, 1))
    give_identity(head, "tekun")
    services.group_fact_add(actor=admin, resident=head, group="退役军人")
    detail = selectors.resident_detail(scope=scope_for(admin), pk=head.pk)
    assert [(row.name, row.active, row.department) for row in detail["identities"]] == [
        ("低保对象", False, "民政"), ("特困人员", True, "民政"),
    ]
    assert [g["name"] for g in detail["group_facts"]] == ["退役军人"]
    assert detail["enrollment_block"] is None and [e.action for e in detail["events"]] == ["group_add"]


# ---------------------------------------------------------------- identity review (就高不就低)


@pytest.fixture
def several(people):
    head, son, daughter = people["baima"]
    give_identity(head, "dibao")  # 342
    give_identity(head, "monitored")  # 190
    give_identity(son, "poverty_exit_stable")  # 80
    give_identity(son, "low_income_family")  # 190, but only for people under 18 or 60 and over
    give_identity(daughter, "tekun")  # a single identity: not on the review
    lee = people["suoshi"][0]
    give_identity(lee, "tekun", department="minzheng")  # 380 full
    give_identity(lee, "disabled_severe", department="canlian")
    give_identity(lee, "dibao", valid_to=dt.date(2021, 12, 31))  # ended before the window: not counted
    wang = people["chengdong"][0]
    give_identity(wang, "fanpin", department="xiangcun")
    give_identity(wang, "monitored_edge", department="xiangcun")
    return people


def review(scope, **kwargs):
    policy = selectors.review_policy(scope.county_code)
    residents = list(selectors.identity_review(scope=scope, policy=policy, **kwargs))
    rows = selectors.identity_review_rows(residents=residents, policy=policy, scope=scope)
    return {row.resident.name: row for row in rows}


def test_review_shows_every_identity_and_the_one_the_policy_applies(several, admin):
    rows = review(scope_for(admin))
    assert set(rows) == {"张父", "张子", "李母", "王叔"}
    assert [i.identity.code for i in rows["张父"].identities] == ["dibao", "monitored"]
    assert (rows["张父"].applied, rows["张父"].subsidy) == ("dibao", Decimal("342.00"))
    assert (rows["李母"].applied, rows["李母"].subsidy) == ("tekun", Decimal("380.00"))
    assert [i.identity.code for i in rows["李母"].identities] == ["disabled_severe", "tekun"]
    # 低收入家庭 applies to the young and the old only: this 18-year-old gets 稳定脱贫's 80
    assert rows["张子"].applied == "poverty_exit_stable" and rows["张子"].subsidy == Decimal("80.00")
    assert rows["王叔"].applied_name == "返贫致贫人口"


def test_review_is_per_township_and_scoped(several, staff, admin):
    assert set(review(scope_for(admin), township=XIAOLING)) == {"张父", "张子", "李母"}
    assert set(review(scope_for(staff["village_collector"]))) == {"张父", "张子"}
    with pytest.raises(PermissionDenied):
        review(scope_for(staff["village_collector"]), township=XIAOLING)


def test_department_clerk_reviews_people_on_their_own_lists(several, staff):
    # 民政 certified identities of 张父, 张子 and 李母; 王叔's both come from 乡村振兴
    assert set(review(scope_for(staff["department_clerk"]))) == {"张父", "张子", "李母"}


def test_department_clerk_sees_only_its_own_identities_not_a_health_one(several, staff, admin):
    head = several["baima"][0]
    give_identity(head, "mental_severe", department="weijian")  # 380 full: applies over 民政's 低保
    whole = review(scope_for(admin))["张父"]
    assert whole.applied == "mental_severe" and "mental_severe" in [i.identity.code for i in whole.identities]
    mine = review(scope_for(staff["department_clerk"]))["张父"]  # 民政
    assert [i.identity.code for i in mine.identities] == ["dibao", "monitored"]
    assert mine.applied is None and mine.subsidy is None and mine.applied_name == selectors.OTHER_DEPARTMENT
    assert "严重精神障碍" not in mine.note and "卫健" not in mine.note
    own = review(scope_for(staff["department_clerk"]))["李母"]  # 民政's 特困 applies: shown as it is
    assert own.applied == "tekun" and [i.identity.code for i in own.identities] == ["tekun"]


def test_review_without_a_policy_still_lists_people(people, regions):
    from yibao.accounts.scope import Scope
    from yibao.registry.tests.factories import add_region

    add_region("110101", "东城区")
    add_region("110101001", "街道")
    add_region("110101001001", "社区")
    resident = make_resident("110101001001", "北京人", id_number=make_id("110101", dt.date(1990, 1, 1)))
    give_identity(resident, "dibao")
    give_identity(resident, "tekun")
    scope = Scope(role="county_admin", region_code="110101")
    rows = review(scope)
    assert rows["北京人"].applied is None and rows["北京人"].note == "本县尚未配置缴费政策，无法判断适用身份。"


# ---------------------------------------------------------------- flags, block, export


def test_flag_list_scoped_and_filtered(people, admin, collector):
    own = Flag.objects.create(county_code="421223", resident=people["baima"][0], kind=Flag.Kind.EMPLOYEE_INSURANCE)
    Flag.objects.create(county_code="421223", resident=people["suoshi"][0], kind=Flag.Kind.OTHER_COUNTY)
    Flag.objects.create(county_code="421321", resident=people["shennong"][0], kind=Flag.Kind.OTHER_COUNTY)
    assert selectors.flag_list(scope=scope_for(admin)).count() == 2
    assert list(selectors.flag_list(scope=scope_for(collector))) == [own]
    assert list(selectors.flag_list(scope=scope_for(admin), kind="employee_insurance")) == [own]
    assert selectors.flag_list(scope=scope_for(admin), state="resolved").count() == 0
    with pytest.raises(Http404):
        selectors.flag_get(scope=scope_for(collector), pk=Flag.objects.get(resident=people["suoshi"][0]).pk)


def test_export_rows_mask_ids_for_the_auditor(people, staff):
    head = people["baima"][0]
    give_identity(head, "tekun")
    auditor_rows = list(selectors.residents_export_rows(scope=scope_for(staff["auditor"]), region=BAIMA))
    collector_rows = list(selectors.residents_export_rows(scope=scope_for(staff["village_collector"])))
    assert len(auditor_rows) == len(collector_rows) == 3
    first = next(r for r in auditor_rows if r[1] == "张父")
    assert first[0] == head.id_number[:6] + "********" + head.id_number[-4:]
    assert first[4:7] == ["肖岭乡", "白马", "H1"] and first[10] == "特困人员"
    assert next(r for r in collector_rows if r[1] == "张父")[0] == head.id_number

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yibao.core.models import Event
from yibao.registry import services
from yibao.registry.models import EmployeeInsuranceRecord, Flag, GroupFact, Household, Identity, Resident
from yibao.registry.selectors import resident_enrollment_block
from yibao.registry.tests.factories import give_identity, make_household, make_id, make_resident
from yibao.registry.tests.fixtures import BAIMA, CHENGDONG, SANJIAO, SHENNONG, SUOSHI

HEAD_ID = make_id("421223", dt.date(1975, 3, 8), seq="131")
WIFE_ID = make_id("421223", dt.date(1977, 6, 1), seq="242", sex="F")
CHILD_ID = make_id("421223", dt.date(2010, 9, 30), seq="351")


def family(**head):
    return [
        {"name": "王大", "id_number": HEAD_ID, "relation": "户主", **head},
        {"name": "李二", "id_number": WIFE_ID, "relation": "配偶", "sex": "女", "birth_date": "1977-06-01"},
        {"name": "王小", "id_number": CHILD_ID, "relation": "子", "phone": "13800000000"},
    ]


def messages_of(info) -> list[str]:
    return info.value.messages


# ---------------------------------------------------------------- household_register


def test_register_household_with_members_and_events(collector):
    result = services.household_register(actor=collector, village_code=BAIMA, members=family(), number="420001")
    household = result.household
    assert household.number == "420001" and household.village_code == BAIMA and household.county_code == "421223"
    assert household.head.name == "王大"
    members = {r.name: r for r in household.members.all()}
    assert set(members) == {"王大", "李二", "王小"}
    assert (members["李二"].sex, members["李二"].birth_date) == ("F", dt.date(1977, 6, 1))
    assert members["王小"].relation_to_head == "子" and members["王小"].phone == "13800000000"
    assert members["王小"].township_code == BAIMA[:9] and members["王小"].hukou_region_code == BAIMA
    assert Event.objects.filter(entity="household", entity_id=str(household.pk), action="register").count() == 1
    assert Event.objects.filter(entity="resident", action="register").count() == 3
    assert result.flags == []
    # stdnum dates 421223 from 1998, so older births get an area-code warning (never a refusal)
    assert all("地址码 421223" in w for w in result.warnings)


def test_register_numbers_households_when_no_number_is_given(collector):
    first = services.household_register(actor=collector, village_code=BAIMA, members=family()[:1]).household
    second = services.household_register(
        actor=collector, village_code=BAIMA, members=[{"name": "赵一", "id_number": WIFE_ID, "relation": "户主"}]
    ).household
    assert first.number == f"{BAIMA}0001" and second.number == f"{BAIMA}0002"


def test_old_15_digit_numbers_become_18_with_a_warning(collector):
    old = "421223750308131"  # 15 digits: 1975-03-08, sequence 131
    result = services.household_register(
        actor=collector, village_code=BAIMA, members=[{"name": "老王", "id_number": old, "relation": "户主"}]
    )
    resident = result.residents[0]
    assert resident.id_number == "42122319750308131" + resident.id_number[-1] and len(resident.id_number) == 18
    assert resident.id_number == HEAD_ID
    assert any("15位身份证号码 421223750308131 已升级为18位" in w for w in result.warnings)


def test_unknown_area_code_is_a_warning_not_a_refusal(collector):
    unknown = make_id("429999", dt.date(1960, 1, 1), seq="111")
    result = services.household_register(
        actor=collector, village_code=BAIMA, members=[{"name": "外来", "id_number": unknown, "relation": "户主"}]
    )
    assert result.residents[0].id_number == unknown
    assert any("地址码 429999 不在区划代码表中" in w and "号码仍然有效" in w for w in result.warnings)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"id_number": HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")}, "第1位成员（王大）：身份证号码校验位错误"),
        ({"sex": "女"}, "第1位成员（王大）：性别“女”与身份证号码不符（号码第17位表示男性）"),
        ({"birth_date": "1975-03-09"}, "第1位成员（王大）：出生日期 1975-03-09 与身份证号码中的 1975-03-08 不符"),
        ({"name": ""}, "第1位成员（未填姓名）：姓名不能为空"),
        ({"name": "王3"}, "第1位成员（王3）：姓名“王3”不能含数字"),
        ({"relation": "配偶"}, "每户须有且只有一位户主（与户主关系填“户主”），现有0位"),
        ({"id_number": CHILD_ID}, "第3位成员（王小）：身份证号码与第1位成员重复"),
    ],
)
def test_bad_members_are_refused_with_the_row_named(collector, change, message):
    with pytest.raises(ValidationError) as info:
        services.household_register(actor=collector, village_code=BAIMA, members=family(**change))
    assert any(m.startswith(message) for m in messages_of(info)), messages_of(info)
    assert not Resident.objects.exists() and not Household.objects.exists(), "nothing is half-written"


def test_a_person_already_registered_in_the_county_is_refused_without_naming_them(collector, admin):
    """The collector of 白马 learns only that the number is another village's and whom to ask; the
    county, whose region holds 锁石, is told who and where."""
    make_household(SUOSHI, "H9", "王大", birth=dt.date(1975, 3, 8))
    existing = Resident.objects.get(name="王大")
    with pytest.raises(ValidationError) as info:
        services.household_register(
            actor=collector, village_code=BAIMA,
            members=[{"name": "新来的", "id_number": existing.id_number, "relation": "户主"}],
        )
    message = messages_of(info)[0]
    assert "已在本县其他村（社区）登记，请与肖岭乡征收专班联系核实" in message
    assert "王大" not in message and "锁石" not in message and "H9" not in message
    household = services.household_register(actor=collector, village_code=BAIMA, members=family()[:1]).household
    with pytest.raises(ValidationError) as info:
        services.household_member_add(actor=collector, household=household,
                                      member={"name": "新来的", "id_number": existing.id_number, "relation": "子"})
    message = " ".join(messages_of(info))
    assert "其他村（社区）" in message and "王大" not in message and "锁石" not in message and "H9" not in message
    with pytest.raises(ValidationError) as info:
        services.household_register(
            actor=admin, village_code=BAIMA,
            members=[{"name": "新来的", "id_number": existing.id_number, "relation": "户主"}],
        )
    assert "已登记为“王大”（肖岭乡 / 锁石，户号 H9）" in messages_of(info)[0]


def test_collector_cannot_register_in_another_village(collector):
    with pytest.raises(PermissionDenied):
        services.household_register(actor=collector, village_code=SUOSHI, members=family())
    with pytest.raises(ValidationError) as info:
        services.household_register(actor=collector, village_code=BAIMA[:9], members=family())
    assert "请选择村（社区）（12位区划代码）" in messages_of(info)[0]


def test_same_id_in_another_county_and_employee_list_are_flagged(collector):
    other = make_resident(SHENNONG, "王大", id_number=HEAD_ID)
    EmployeeInsuranceRecord.objects.create(county_code="421223", id_number=HEAD_ID, employer="县自来水公司",
                                           insured_from=dt.date(2020, 1, 1))
    result = services.household_register(actor=collector, village_code=BAIMA, members=family())
    kinds = {f.kind: f.detail for f in result.flags}
    assert kinds[Flag.Kind.OTHER_COUNTY] == "同一身份证号码已在随县（421321）登记"
    assert kinds[Flag.Kind.EMPLOYEE_INSURANCE] == "在职工医保名单中（县自来水公司），参保日期 2020-01-01"
    head = Resident.objects.get(county_code="421223", id_number=HEAD_ID)
    block = resident_enrollment_block(head)
    assert "已在其他县（区）登记" in block and "已参加职工医保" in block and "待县医保局核实处理" in block
    assert resident_enrollment_block(Resident.objects.get(name="王小")) is None
    assert Flag.objects.filter(resident=other).count() == 0  # the other county's rows are not touched


# ---------------------------------------------------------------- members, head, updates, moves


def test_add_member_and_change_head(collector):
    household = services.household_register(actor=collector, village_code=BAIMA, members=family()[:2]).household
    baby = make_id("421223", dt.date(2023, 10, 1), seq="402", sex="F")
    result = services.household_member_add(
        actor=collector, household=household, member={"name": "王宝", "id_number": baby, "relation": "女"}, reason="新生儿"
    )
    assert result.residents[0].household == household and result.residents[0].sex == "F"
    with pytest.raises(ValidationError):
        services.household_member_add(actor=collector, household=household,
                                      member={"name": "王宝", "id_number": baby, "relation": "女"})
    wife = Resident.objects.get(name="李二")
    services.household_set_head(actor=collector, household=household, resident=wife, former_head_relation="配偶")
    household.refresh_from_db()
    assert household.head == wife
    assert Resident.objects.get(name="王大").relation_to_head == "配偶"
    assert Resident.objects.get(name="李二").relation_to_head == "户主"
    assert Event.objects.filter(entity="household", action="set_head").count() == 1


def test_status_change_needs_a_reason_and_is_an_event(collector):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    with pytest.raises(ValidationError) as info:
        services.resident_update(actor=collector, resident=son, status="deceased")
    assert info.value.message_dict["reason"] == ["变更状态须填写原因（如：2023年5月迁出至外省）。"]
    services.resident_update(actor=collector, resident=son, status="deceased", reason="2023年5月病故", phone="139")
    son.refresh_from_db()
    assert son.status == "deceased"
    event = Event.objects.get(entity="resident", entity_id=str(son.pk), action="status")
    assert event.before == {"status": "active"} and event.after == {"status": "deceased", "source": "registry"}
    update = Event.objects.get(entity="resident", entity_id=str(son.pk), action="update")
    assert update.before == {"phone": ""} and update.after == {"phone": "139"}
    assert resident_enrollment_block(son) == "该居民状态为“已死亡”，不能参保。"


def test_status_change_is_one_service_checked_by_the_path_that_starts_it(collector, staff):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    with pytest.raises(ValidationError) as info:
        services.resident_status_change(actor=collector, resident=son, status="gone", reason="x")
    assert "未知的状态：gone" in info.value.message_dict["status"][0]
    with pytest.raises(ValidationError):
        services.resident_status_change(actor=collector, resident=son, status="deceased", reason="x", source="elsewhere")
    # a tax officer books refunds but does not edit the register: only the refund path lets them mark a death
    tax = staff["tax_officer"]
    with pytest.raises(PermissionDenied):
        services.resident_status_change(actor=tax, resident=son, status="deceased", reason="病故")
    services.resident_status_change(actor=tax, resident=son, status="deceased", reason="退费：死亡", source="refund")
    son.refresh_from_db()
    assert son.status == "deceased"
    # the same status again is no change and no event
    services.resident_status_change(actor=collector, resident=son, status="deceased", reason="再次")
    assert Event.objects.filter(entity="resident", entity_id=str(son.pk), action="status").count() == 1


def test_update_refuses_head_changes_and_bad_codes(collector):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    with pytest.raises(ValidationError) as info:
        services.resident_update(actor=collector, resident=son, relation_to_head="户主", residence_region_code="12")
    assert set(info.value.message_dict) == {"relation_to_head", "residence_region_code"}


def test_move_to_a_new_household_in_another_village(staff):
    officer = staff["township_officer"]
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    services.resident_move(actor=officer, resident=son, to_village_code=SANJIAO, reason="分户")
    son.refresh_from_db()
    assert (son.village_code, son.township_code, son.relation_to_head) == (SANJIAO, SANJIAO[:9], "户主")
    assert son.household.village_code == SANJIAO and son.household.head == son
    event = Event.objects.get(entity="resident", entity_id=str(son.pk), action="move")
    assert event.before["village_code"] == BAIMA and event.after["village_code"] == SANJIAO and event.reason == "分户"


def test_move_into_an_existing_household(admin):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    target, _ = make_household(CHENGDONG, "H2", "刘母")
    services.resident_move(actor=admin, resident=son, to_village_code=CHENGDONG, household=target, relation="女婿",
                           reason="婚迁")
    son.refresh_from_db()
    assert son.household == target and son.relation_to_head == "女婿" and son.county_code == "421223"


def test_move_rules(collector, admin):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    with pytest.raises(PermissionDenied):  # a collector can't reach the other village
        services.resident_move(actor=collector, resident=son, to_village_code=SUOSHI, reason="婚迁")
    with pytest.raises(ValidationError) as info:
        services.resident_move(actor=admin, resident=head, to_village_code=SUOSHI, reason="婚迁")
    assert "是户主，户内还有其他成员" in messages_of(info)[0]
    with pytest.raises(ValidationError) as info:
        services.resident_move(actor=admin, resident=son, to_village_code=SHENNONG, reason="婚迁")
    assert "不能跨县（区）迁移" in messages_of(info)[0]
    with pytest.raises(ValidationError) as info:
        services.resident_move(actor=admin, resident=son, to_village_code=SUOSHI, reason="")
    assert "请填写迁移原因" in messages_of(info)[0]
    son.refresh_from_db()
    assert son.village_code == BAIMA


# ---------------------------------------------------------------- identities and group facts


def test_identity_by_alias_with_default_department(admin):
    _, (head,) = make_household(BAIMA, "H1", "张父")
    identity = services.identity_add(actor=admin, resident=head, code="最低生活保障家庭成员", valid_from="2023-01-01")
    assert (identity.code, identity.department, identity.valid_from) == ("dibao", "minzheng", dt.date(2023, 1, 1))
    event = Event.objects.get(entity="resident", entity_id=str(head.pk), action="identity_add")
    assert event.after["code"] == "dibao"


def test_identity_errors(admin):
    _, (head,) = make_household(BAIMA, "H1", "张父")
    with pytest.raises(ValidationError) as info:
        services.identity_add(actor=admin, resident=head, code="贫困户")
    assert info.value.message_dict["code"][0].startswith("未知的资助身份：“贫困户”")
    with pytest.raises(ValidationError) as info:
        services.identity_add(actor=admin, resident=head, code="tekun", valid_from="2023-05-01", valid_to="2023-01-01")
    assert info.value.message_dict["valid_to"] == ["终止日期 2023-01-01 早于起始日期 2023-05-01。"]
    services.identity_add(actor=admin, resident=head, code="tekun")
    with pytest.raises(ValidationError) as info:
        services.identity_add(actor=admin, resident=head, code="特困供养人员")
    assert "已有“特困人员”身份" in info.value.message_dict["code"][0]


def test_identity_end_and_renew_keep_history(admin):
    _, (head,) = make_household(BAIMA, "H1", "张父")
    identity = services.identity_add(actor=admin, resident=head, code="dibao", valid_from="2020-01-01")
    with pytest.raises(ValidationError):
        services.identity_end(actor=admin, identity=identity, valid_to="2022-12-31", reason="")
    services.identity_end(actor=admin, identity=identity, valid_to="2022-12-31", reason="退出低保")
    identity.refresh_from_db()
    assert identity.valid_to == dt.date(2022, 12, 31)
    renewed = services.identity_add(actor=admin, resident=head, code="dibao", valid_from="2024-01-01")
    assert renewed.pk == identity.pk and renewed.valid_to is None
    actions = list(Event.objects.filter(entity="resident", entity_id=str(head.pk)).values_list("action", flat=True))
    assert actions == ["identity_add", "identity_end", "identity_renew"]


def test_department_clerk_records_only_own_department(staff):
    clerk = staff["department_clerk"]  # 民政
    _, (head,) = make_household(BAIMA, "H1", "张父")
    services.identity_add(actor=clerk, resident=head, code="低保对象")
    with pytest.raises(PermissionDenied):
        services.identity_add(actor=clerk, resident=head, code="重度残疾人")  # 残联
    other = give_identity(head, "disabled_severe", department="canlian")
    with pytest.raises(PermissionDenied):
        services.identity_end(actor=clerk, identity=other, valid_to="2023-01-01", reason="x")
    with pytest.raises(PermissionDenied):  # collectors don't record identities
        services.identity_add(actor=staff["village_collector"], resident=head, code="tekun")


def test_group_facts(collector):
    _, (head, son) = make_household(BAIMA, "H1", "张父", "张子")
    fact = services.group_fact_add(actor=collector, resident=son, group="外出务工人员", event_date="2022-03-01")
    assert fact.group == "migrant_worker"
    with pytest.raises(ValidationError) as info:
        services.group_fact_add(actor=collector, resident=son, group="migrant_worker")
    assert info.value.message_dict["group"] == ["张子已登记为“外出务工人员”。"]
    with pytest.raises(ValidationError):
        services.group_fact_add(actor=collector, resident=son, group="新生儿", event_date="1999-01-01")  # before birth
    services.group_fact_remove(actor=collector, fact=fact, reason="登记错误")
    assert not GroupFact.objects.exists()
    assert list(Event.objects.filter(entity="resident").values_list("action", flat=True)) == ["group_add", "group_remove"]


# ---------------------------------------------------------------- flags


def make_flagged(kind=Flag.Kind.EMPLOYEE_INSURANCE):
    _, (head,) = make_household(BAIMA, "H1", "张父")
    flag = Flag.objects.create(county_code="421223", resident=head, kind=kind, detail="在职工医保名单中")
    return head, flag


def test_clearing_a_flag_lifts_the_block(admin):
    head, flag = make_flagged()
    assert "已参加职工医保（在职工医保名单中），待县医保局核实处理" in resident_enrollment_block(head)
    services.flag_resolve(actor=admin, flag=flag, outcome="cleared", resolution="职工医保已于2023年6月停保")
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolved_by_name == "县医保局管理员甲" and flag.outcome == "cleared"
    assert resident_enrollment_block(head) is None
    event = Event.objects.get(entity="resident", action="flag_resolve")
    assert event.before["open"] is True and event.after == {"flag": flag.pk, "kind": flag.kind, "open": False,
                                                             "outcome": "cleared"}
    assert event.reason == "职工医保已于2023年6月停保"


def test_confirming_a_flag_keeps_the_block(admin):
    head, flag = make_flagged()
    services.flag_resolve(actor=admin, flag=flag, outcome="confirmed", resolution="在县自来水公司参加职工医保")
    block = resident_enrollment_block(head)
    assert block.startswith("经核实已参加职工医保") and "不能在本县参加城乡居民医保" in block


def test_flag_resolution_rules(admin, staff):
    head, flag = make_flagged()
    with pytest.raises(ValidationError) as info:
        services.flag_resolve(actor=admin, flag=flag, outcome="maybe", resolution="")
    assert set(info.value.message_dict) == {"outcome", "resolution"}
    with pytest.raises(PermissionDenied):
        services.flag_resolve(actor=staff["township_officer"], flag=flag, outcome="cleared", resolution="x")
    services.flag_resolve(actor=admin, flag=flag, outcome="cleared", resolution="已核实")
    with pytest.raises(ValidationError) as info:
        services.flag_resolve(actor=admin, flag=flag, outcome="cleared", resolution="再来一次")
    assert "该标记已于" in messages_of(info)[0]


def test_flag_create_does_not_double_an_open_flag(admin):
    head, flag = make_flagged()
    again = services.flag_create(actor=admin, resident=head, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="再次")
    assert again.pk == flag.pk and Flag.objects.count() == 1


def test_identity_keeps_every_list_a_person_is_on(admin):
    _, (head,) = make_household(BAIMA, "H1", "张父")
    for code in ("dibao", "monitored", "poverty_exit_stable"):
        services.identity_add(actor=admin, resident=head, code=code)
    assert set(Identity.objects.filter(resident=head).values_list("code", flat=True)) == {
        "dibao", "monitored", "poverty_exit_stable"
    }

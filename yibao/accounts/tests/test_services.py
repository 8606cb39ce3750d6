import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError

from yibao.accounts import services
from yibao.accounts.models import User
from yibao.core.models import Event
from yibao.registry.tests.fixtures import BAIMA, SHENNONG, SUOSHI, XIAOLING


def create(actor, **fields):
    values = {"username": "zhang", "password": "pass-5678x", "role": "village_collector", "region_code": SUOSHI}
    values.update(fields)
    return services.user_create(actor=actor, **values)


def errors_of(info) -> dict:
    return {k: v[0] for k, v in info.value.message_dict.items()}


def test_admin_creates_a_collector_with_an_event(admin):
    user = create(admin, display_name="张三", phone="13800000000")
    assert user.check_password("pass-5678x") and user.role == "village_collector" and user.region_code == SUOSHI
    event = Event.objects.get(entity="user", entity_id=str(user.pk), action="create")
    assert event.county_code == "421223" and event.actor == admin
    assert event.after["region_code"] == SUOSHI
    assert "pass-5678x" not in str(event.after) and "password" not in event.after


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"region_code": XIAOLING}, "region_code", "村（社区）征收员须绑定到村（社区）（12位区划代码），“肖岭乡”是乡镇（街道）。"),
        ({"role": "township_officer"}, "region_code", "乡镇（街道）经办员须绑定到乡镇（街道）（9位区划代码），“锁石”是村（社区）。"),
        ({"role": "county_admin", "region_code": XIAOLING}, "region_code", "县医保局管理员须绑定到县（区）（6位区划代码），“肖岭乡”是乡镇（街道）。"),
        ({"region_code": SHENNONG}, "region_code", "“神农”（421321100201）不在您的管辖范围内。"),
        ({"region_code": "421223200299"}, "region_code", "区划代码 421223200299 不存在，请先导入行政区划。"),
        ({"region_code": ""}, "region_code", "请选择所属区划。"),
        ({"role": "department_clerk", "region_code": "421223"}, "department", "部门名单报送员须选择所属部门（民政、残联、卫健、乡村振兴、退役军人事务等）。"),
        ({"role": "boss"}, "role", "未知的角色：boss"),
        ({"username": "张三"}, "username", "用户名须为3至150位字母、数字或 _ . @ + - 符号。"),
        ({"password": "short"}, "password", "密码至少需要8位。"),
        ({"password": "12345678"}, "password", "密码不能全是数字，请加入字母或符号。"),
        ({"phone": "电话"}, "phone", "联系电话“电话”格式不正确。"),
    ],
)
def test_bad_accounts_get_clear_chinese_messages(admin, fields, field, message):
    with pytest.raises(ValidationError) as info:
        create(admin, **fields)
    assert errors_of(info)[field] == message
    assert not User.objects.filter(username=fields.get("username", "zhang")).exists()


def test_auditor_may_sit_at_any_level(admin):
    for n, code in enumerate(("421223", XIAOLING, BAIMA)):
        assert create(admin, username=f"audit{n}", role="auditor", region_code=code).region_code == code


def test_usernames_are_unique_regardless_of_case(admin):
    create(admin)
    with pytest.raises(ValidationError) as info:
        create(admin, username="ZHANG")
    assert errors_of(info)["username"] == "用户名“ZHANG”已被使用。"


def test_only_account_managers_may_create(staff):
    for role in ("tax_officer", "township_officer", "village_collector", "department_clerk", "auditor"):
        with pytest.raises(PermissionDenied):
            create(staff[role], username=f"x{role}")


def test_command_line_is_not_bound_to_a_county(regions):
    user = create("命令行:root", region_code=SHENNONG)
    assert user.region_code == SHENNONG


def test_update_role_and_region_is_checked_and_recorded(admin):
    user = create(admin)
    services.user_update(actor=admin, user=user, role="township_officer", region_code=XIAOLING, reason="调岗")
    user.refresh_from_db()
    assert (user.role, user.region_code) == ("township_officer", XIAOLING)
    event = Event.objects.get(entity="user", entity_id=str(user.pk), action="update")
    assert event.before == {"role": "village_collector", "region_code": SUOSHI}
    assert event.after == {"role": "township_officer", "region_code": XIAOLING} and event.reason == "调岗"
    with pytest.raises(ValidationError) as info:
        services.user_update(actor=admin, user=user, role="village_collector")
    assert "须绑定到村（社区）" in errors_of(info)["region_code"]


def test_role_change_away_from_clerk_drops_the_department(admin):
    clerk = create(admin, username="clerk", role="department_clerk", region_code="421223", department="canlian")
    services.user_update(actor=admin, user=clerk, role="auditor")
    clerk.refresh_from_db()
    assert clerk.department == ""


def test_admin_cannot_change_own_role_or_deactivate_self(admin):
    with pytest.raises(ValidationError):
        services.user_update(actor=admin, user=admin, role="auditor")
    with pytest.raises(ValidationError) as info:
        services.user_deactivate(actor=admin, user=admin)
    assert errors_of(info)["is_active"] == "不能停用自己的账号。"


def test_accounts_outside_the_county_are_out_of_reach(admin):
    other = create("命令行:root", username="suixian", region_code=SHENNONG)
    for call in (
        lambda: services.user_update(actor=admin, user=other, display_name="x"),
        lambda: services.user_deactivate(actor=admin, user=other),
        lambda: services.user_reset_password(actor=admin, user=other),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_deactivated_user_can_no_longer_log_in(admin):
    user = create(admin)
    assert authenticate(username="zhang", password="pass-5678x") == user
    services.user_deactivate(actor=admin, user=user, reason="离职")
    assert authenticate(username="zhang", password="pass-5678x") is None
    assert Event.objects.get(entity="user", action="deactivate").reason == "离职"
    services.user_activate(actor=admin, user=user)
    assert authenticate(username="zhang", password="pass-5678x") == user


def test_reset_password_generates_one_when_none_is_given(admin):
    user = create(admin)
    password = services.user_reset_password(actor=admin, user=user)
    assert len(password) == 10 and any(c.isdigit() for c in password)
    user.refresh_from_db()
    assert user.check_password(password)
    assert Event.objects.filter(entity="user", action="reset_password", entity_id=str(user.pk)).exists()


def test_user_changes_own_password_and_profile(collector):
    with pytest.raises(ValidationError) as info:
        services.user_change_password(user=collector, old_password="wrong", new_password="pass-9999x")
    assert errors_of(info)["old_password"] == "原密码不正确。"
    services.user_change_password(user=collector, old_password="pass-1234", new_password="pass-9999x")
    collector.refresh_from_db()
    assert collector.check_password("pass-9999x")
    services.user_update_profile(user=collector, display_name="李四", phone="13900000000")
    collector.refresh_from_db()
    assert (collector.display_name, collector.phone, collector.role) == ("李四", "13900000000", "village_collector")

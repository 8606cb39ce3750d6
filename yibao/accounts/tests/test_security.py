"""Login security: lockout after repeated failures, unlock by an administrator, the TOTP second factor."""

import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from typer.testing import CliRunner

from yibao.accounts import services
from yibao.accounts.models import User
from yibao.cli import app
from yibao.core.models import Event
from yibao.registry.tests.fixtures import LISHAN

PASSWORD = "pass-1234"  # the staff fixture's password
COUNTY_ROLES = ["county_admin", "tax_officer"]
runner = CliRunner()


def page_login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, "next": ""}, **extra)


def api_login(client, username, password, otp_token="", **extra):
    return client.post("/api/login", {"username": username, "password": password, "otp_token": otp_token},
                       content_type="application/json", **extra)


def fail_until_locked(client, username, times=5):
    return [page_login(client, username, "wrong-password") for _ in range(times)]


def totp_code(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def other_admin(regions):
    """The county administrator of 随县, another county."""
    return User.objects.create_user(username="suixian_admin", password=PASSWORD, role="county_admin",
                                    region_code=LISHAN[:6])


# ---- lockout -------------------------------------------------------------------------------------------


def test_login_page_counts_down_then_locks_the_account(client, staff, caplog):
    caplog.set_level(logging.WARNING, logger="yibao.security")
    answers = fail_until_locked(client, "village_collector", times=4)
    assert all(a.status_code == 200 for a in answers)
    assert "再输错 1 次，该账号将被锁定 30 分钟。" in answers[-1].content.decode()
    locked = page_login(client, "village_collector", "wrong-password")
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "该账号因连续 5 次密码错误已被锁定" in html and "请联系本县医保局系统管理员解锁" in html
    # one log line and one event row for the lockout, in the collector's county
    lines = [r.getMessage() for r in caplog.records if r.name == "yibao.security"]
    assert any("account locked: username=village_collector" in line for line in lines)
    event = Event.objects.get(action="lockout")
    assert (event.entity, event.entity_id, event.county_code) == ("user", str(staff["village_collector"].pk), "421223")
    assert event.after["failures"] == 5 and event.after["ip"] == "127.0.0.1"


def test_a_locked_account_is_refused_even_with_the_right_password(client, staff):
    fail_until_locked(client, "village_collector")
    answer = page_login(client, "village_collector", PASSWORD)
    assert answer.status_code == 429 and "已被锁定" in answer.content.decode()
    assert client.get("/api/me").status_code == 401  # no session was made
    assert Event.objects.filter(action="lockout").count() == 1  # later refusals are logged, not new lockouts


def test_the_lock_follows_the_username_not_the_address(client, staff):
    for n in range(5):
        page_login(client, "Village_Collector ", "wrong", REMOTE_ADDR=f"10.0.0.{n}")  # case and spaces fold
    assert page_login(client, "village_collector", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 429
    # the other accounts behind the same addresses are untouched
    assert page_login(client, "township_officer", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 302


@override_settings(AXES_LOCKOUT_PARAMETERS=[["username", "ip_address"]])
def test_username_and_address_mode_locks_only_that_pair(client, staff):
    fail_until_locked(client, "village_collector")
    assert page_login(client, "village_collector", PASSWORD).status_code == 429
    assert page_login(client, "village_collector", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_a_success_clears_the_count(client, staff):
    fail_until_locked(client, "village_collector", times=4)
    assert page_login(client, "village_collector", PASSWORD).status_code == 302
    client.logout()
    answers = fail_until_locked(client, "village_collector", times=4)
    assert answers[-1].status_code == 200  # four more failures do not lock: the count started again


def test_api_login_is_throttled_and_locked_the_same_way(client, staff):
    first = api_login(client, "tax_officer", "wrong")
    assert first.status_code == 401 and "再输错 4 次" in first.json()["detail"]
    for _ in range(3):
        api_login(client, "tax_officer", "wrong")
    locked = api_login(client, "tax_officer", "wrong")
    assert locked.status_code == 429
    assert locked.json()["locked"] is True and "已被锁定" in locked.json()["detail"]
    again = api_login(client, "tax_officer", PASSWORD)
    assert again.status_code == 429
    assert client.get("/api/me").status_code == 401
    assert Event.objects.get(action="lockout").after["path"] == "/api/login"


def test_api_login_makes_a_session(client, staff):
    answer = api_login(client, "village_collector", PASSWORD)
    assert answer.status_code == 200 and answer.json()["username"] == "village_collector"
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


# ---- unlock ---------------------------------------------------------------------------------------------


def test_admin_unlocks_on_the_page_after_confirming(client, staff, admin):
    collector = staff["village_collector"]
    fail_until_locked(client, "village_collector")
    client.force_login(admin)
    assert "已锁定" in client.get("/accounts/users/").content.decode()
    only_locked = client.get("/accounts/users/", {"status": "locked"}).content.decode()
    assert "village_collector</a>" in only_locked and "tax_officer</a>" not in only_locked
    page = client.get(f"/accounts/users/{collector.pk}/").content.decode()
    assert "解锁账号" in page and "我已核实是账号本人申请" in page
    unticked = client.post(f"/accounts/users/{collector.pk}/unlock/", {"reason": "电话核实"}, follow=True)
    assert "请先勾选" in unticked.content.decode()
    assert not Event.objects.filter(action="unlock").exists()
    done = client.post(f"/accounts/users/{collector.pk}/unlock/", {"confirm": "on", "reason": "电话核实"}, follow=True)
    assert "已解锁账号 village_collector" in done.content.decode()
    event = Event.objects.get(action="unlock")
    assert event.reason == "电话核实" and event.actor == admin and event.county_code == "421223"
    client.logout()
    assert page_login(client, "village_collector", PASSWORD).status_code == 302


def test_admin_unlocks_through_the_api(client, staff, admin):
    collector = staff["village_collector"]
    fail_until_locked(client, "village_collector")
    client.force_login(admin)
    listed = {u["username"]: u["locked"] for u in client.get("/api/users").json()}
    assert listed["village_collector"] is True and listed["tax_officer"] is False
    assert [u["username"] for u in client.get("/api/users", {"locked": True}).json()] == ["village_collector"]
    answer = client.post(f"/api/users/{collector.pk}/unlock", {"reason": "本人来电"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["unlocked"] is True
    assert Event.objects.filter(action="unlock", entity_id=str(collector.pk)).count() == 1
    again = client.post(f"/api/users/{collector.pk}/unlock", {}, content_type="application/json")
    assert again.json()["unlocked"] is False  # nothing left to unlock, no second event
    assert Event.objects.filter(action="unlock").count() == 1


def test_unlock_is_refused_to_a_collector_and_to_another_county(client, staff, other_admin):
    target = staff["tax_officer"]
    fail_until_locked(client, "tax_officer")
    client.force_login(staff["village_collector"])
    assert client.post(f"/api/users/{target.pk}/unlock", {}, content_type="application/json").status_code == 403
    assert client.post(f"/accounts/users/{target.pk}/unlock/", {"confirm": "on"}).status_code == 403
    client.force_login(other_admin)
    assert client.post(f"/api/users/{target.pk}/unlock", {}, content_type="application/json").status_code == 404
    assert client.post(f"/accounts/users/{target.pk}/unlock/", {"confirm": "on"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.user_unlock(actor=other_admin, user=target)
    with pytest.raises(PermissionDenied):
        services.user_unlock(actor=staff["village_collector"], user=target)
    client.logout()
    assert page_login(client, "tax_officer", PASSWORD).status_code == 429  # still locked
    assert not Event.objects.filter(action="unlock").exists()


def test_cli_unlocks(client, staff):
    fail_until_locked(client, "village_collector")
    result = runner.invoke(app, ["user", "unlock", "village_collector", "--reason", "已核实", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"username": "village_collector", "unlocked": True, "cleared": 1}
    assert Event.objects.get(action="unlock").reason == "已核实"
    assert page_login(client, "village_collector", PASSWORD).status_code == 302
    missing = runner.invoke(app, ["users", "unlock", "nobody", "--json"])
    assert missing.exit_code != 0 and "没有用户名为 nobody 的账号" in missing.stderr


# ---- second factor --------------------------------------------------------------------------------------


def settings_in_subprocess(env: dict) -> dict:
    """Load yibao.settings in a fresh interpreter with this environment (as `make run` / `make serve` would)."""
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'roles': settings.YIBAO_REQUIRE_2FA_ROLES, 'failures': settings.AXES_FAILURE_LIMIT,"
        " 'minutes': settings.AXES_COOLOFF_TIME.total_seconds() / 60, 'params': settings.AXES_LOCKOUT_PARAMETERS}))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "DEBUG", "SECRET_KEY", "DJANGO_"))}
    base = {**keep, "DJANGO_SETTINGS_MODULE": "yibao.settings", "YIBAO_VAR_DIR": "/tmp/yibao-settings-test",
            "YIBAO_ENV_FILE": ""}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[3], check=True)
    return json.loads(out.stdout)


def test_second_factor_is_on_in_production_and_off_in_the_demo():
    assert settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": "x" * 50})["roles"] == COUNTY_ROLES
    assert settings_in_subprocess({"DEBUG": "1"})["roles"] == []  # `make run`, the demo
    # DEBUG is off unless set (make serve): a key alone is production, and the county roles need the code
    assert settings_in_subprocess({"SECRET_KEY": "x" * 50})["roles"] == COUNTY_ROLES
    off = settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": "x" * 50, "YIBAO_REQUIRE_2FA_ROLES": ""})
    assert off["roles"] == []
    tuned = settings_in_subprocess({"SECRET_KEY": "x" * 50, "YIBAO_REQUIRE_2FA_ROLES": "county_admin", "YIBAO_LOCKOUT_FAILURES": "8",
                                    "YIBAO_LOCKOUT_MINUTES": "15", "YIBAO_LOCKOUT_BY": "username_ip"})
    assert tuned == {"roles": ["county_admin"], "failures": 8, "minutes": 15.0, "params": [["username", "ip_address"]]}


def test_second_factor_is_off_in_tests_by_default(client, admin):
    assert page_login(client, "county_admin", PASSWORD).status_code == 302
    assert client.get("/accounts/users/").status_code == 200


@override_settings(YIBAO_REQUIRE_2FA_ROLES=COUNTY_ROLES)
def test_county_admin_enrols_then_reaches_the_pages(client, admin):
    answer = page_login(client, "county_admin", PASSWORD, follow=True)
    assert answer.redirect_chain[-1][0].startswith("/accounts/login/enrol/")
    html = answer.content.decode()
    assert "<svg" in html and "绑定手机验证器" in html and "http" not in html.split("<svg", 1)[1].split("</svg>")[0]
    # until the code is given, pages send the user back and the API answers 401 in Chinese
    blocked = client.get("/accounts/users/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/login/enrol/")
    api = client.get("/api/me")
    assert api.status_code == 401 and "二次验证" in api.json()["detail"]
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    wrong = client.post("/accounts/login/enrol/", {"token": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "验证码不正确或已过期" in wrong.content.decode()
    assert client.get("/api/me").status_code == 401
    # a wrong code makes the next try wait (django-otp's throttling), even with the right code
    hurried = client.post("/accounts/login/enrol/", {"token": totp_code(device)})
    assert "验证码输错次数过多，请" in hurried.content.decode() and "秒后再试" in hurried.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=1))
    done = client.post("/accounts/login/enrol/?next=/accounts/users/", {"token": totp_code(device)})
    assert done.status_code == 302 and done["Location"] == "/accounts/users/"
    assert TOTPDevice.objects.get(user=admin).confirmed
    assert client.get("/accounts/users/").status_code == 200
    assert client.get("/api/me").status_code == 200
    assert Event.objects.filter(action="enrol_second_factor", entity_id=str(admin.pk)).count() == 1


@override_settings(YIBAO_REQUIRE_2FA_ROLES=COUNTY_ROLES)
def test_enrolled_tax_officer_gives_a_code_after_the_password(client, staff):
    officer = staff["tax_officer"]
    device = TOTPDevice.objects.create(user=officer, name="手机验证器", confirmed=True)
    answer = page_login(client, "tax_officer", PASSWORD, follow=True)
    assert answer.redirect_chain[-1][0].startswith("/accounts/login/code/")
    assert client.get("/progress/").status_code == 302
    wrong = client.post("/accounts/login/code/", {"token": "12345x"})
    assert "验证码不正确或已过期" in wrong.content.decode()
    assert client.get("/api/me").status_code == 401
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    right = client.post("/accounts/login/code/", {"token": totp_code(device)})
    assert right.status_code == 302
    assert client.get("/api/me").json()["username"] == "tax_officer"
    # the same code cannot be used twice
    client.logout()
    page_login(client, "tax_officer", PASSWORD)
    assert "验证码不正确" in client.post("/accounts/login/code/", {"token": totp_code(device)}).content.decode()


@override_settings(YIBAO_REQUIRE_2FA_ROLES=COUNTY_ROLES)
def test_village_collector_needs_no_second_factor(client, staff):
    answer = page_login(client, "village_collector", PASSWORD)
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/api/me").status_code == 200
    assert client.get("/accounts/login/code/").status_code == 302  # nothing to do there


@override_settings(YIBAO_REQUIRE_2FA_ROLES=COUNTY_ROLES)
def test_api_login_needs_the_code_for_county_roles(client, staff):
    officer = staff["tax_officer"]
    refused = api_login(client, "tax_officer", PASSWORD)
    assert refused.status_code == 403 and "绑定手机验证器" in refused.json()["detail"]
    device = TOTPDevice.objects.create(user=officer, name="手机验证器", confirmed=True)
    without = api_login(client, "tax_officer", PASSWORD)
    assert without.status_code == 401 and without.json()["second_factor"] is True
    assert client.get("/api/me").status_code == 401
    wrong = api_login(client, "tax_officer", PASSWORD, otp_token="abc")
    assert wrong.status_code == 401 and "验证码不正确" in wrong.json()["detail"]
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    right = api_login(client, "tax_officer", PASSWORD, otp_token=totp_code(device))
    assert right.status_code == 200
    assert client.get("/api/me").status_code == 200


@override_settings(YIBAO_REQUIRE_2FA_ROLES=COUNTY_ROLES)
def test_a_session_logged_in_before_the_code_is_blocked_from_the_api(client, staff):
    client.force_login(staff["tax_officer"])  # a session by password alone
    answer = client.get("/api/users")
    assert answer.status_code == 401 and "二次验证" in answer.json()["detail"]
    assert client.get("/").status_code == 302


def test_admin_resets_a_second_factor_on_the_page_api_and_cli(client, staff, admin, other_admin):
    officer = staff["tax_officer"]
    TOTPDevice.objects.create(user=officer, name="手机验证器", confirmed=True)
    client.force_login(admin)
    page = client.get(f"/accounts/users/{officer.pk}/").content.decode()
    assert "已绑定手机验证器" in page and "重置二次验证" in page
    unticked = client.post(f"/accounts/users/{officer.pk}/second-factor/reset/", {}, follow=True)
    assert "请先勾选" in unticked.content.decode() and TOTPDevice.objects.filter(user=officer).exists()
    done = client.post(f"/accounts/users/{officer.pk}/second-factor/reset/", {"confirm": "on", "reason": "手机丢失"},
                       follow=True)
    assert "已重置 tax_officer 的二次验证" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert Event.objects.get(action="reset_second_factor").reason == "手机丢失"

    TOTPDevice.objects.create(user=officer, name="手机验证器", confirmed=True)
    answer = client.post(f"/api/users/{officer.pk}/second-factor/reset", {}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["removed"] == 1

    TOTPDevice.objects.create(user=officer, name="手机验证器", confirmed=True)
    client.force_login(other_admin)
    assert client.post(f"/api/users/{officer.pk}/second-factor/reset", {},
                       content_type="application/json").status_code == 404
    client.force_login(staff["village_collector"])
    assert client.post(f"/accounts/users/{officer.pk}/second-factor/reset/", {"confirm": "on"}).status_code == 403
    assert TOTPDevice.objects.filter(user=officer).exists()

    result = runner.invoke(app, ["users", "reset-2fa", "tax_officer", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"username": "tax_officer", "removed": 1}
    assert Event.objects.filter(action="reset_second_factor").count() == 3

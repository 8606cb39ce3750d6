"""Undo (撤销) of a status change within 10 minutes by its maker: a 催缴 mark and the enrollment actions."""

import datetime as dt

import pytest
from django.utils import timezone

from yibao.core.models import Event
from yibao.enrollment import services as enrollment_services
from yibao.enrollment.models import Enrollment, EnrollmentClaim
from yibao.progress import services
from yibao.progress.models import RemindMark
from yibao.progress.tests import builders as b
from yibao.registry.models import Flag, Resident, StatusChange
from yibao.registry.undo import UndoError, status_change_apply, status_change_preview, status_change_undo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_user):
    return make_user("undo_admin", role="county_admin", region_code=b.COUNTY)


def _mark(actor, resident, outcome="moved_away", note="2024年10月迁往合肥市"):
    return status_change_apply(
        actor=actor, resident=resident, kind="remind_mark", capability="remind.mark", title=f"{resident.name} 已标记",
        do=lambda: services.remind_mark(actor=actor, resident=resident, benefit_year=2025, outcome=outcome, note=note),
    )


def test_preview_says_what_would_change_and_changes_nothing(county, admin):
    d = county["d"]
    lines = status_change_preview(resident=d, do=lambda: services.remind_mark(
        actor=admin, resident=d, benefit_year=2025, outcome="moved_away", note="迁往合肥"))
    assert "户籍状态改为已迁出" in lines
    assert "2024年度参保由“正常参保”改为“参保暂停”" in lines
    assert "催缴标记为已迁出" in lines
    d.refresh_from_db()
    assert d.status == Resident.Status.ACTIVE and not RemindMark.objects.filter(resident=d).exists()
    assert Enrollment.objects.get(resident=d, benefit_year=2024).status == Enrollment.Status.PAID
    assert not StatusChange.objects.exists()


def test_undo_of_a_moved_away_mark_restores_everything_and_writes_an_event(county, admin):
    d = county["d"]
    last = Enrollment.objects.get(resident=d, benefit_year=2024)
    reason_before = last.status_reason
    _, change = _mark(admin, d)
    d.refresh_from_db()
    last.refresh_from_db()
    assert d.status == Resident.Status.MOVED_AWAY and last.status == Enrollment.Status.SUSPENDED
    assert change.lines == ["户籍状态改为已迁出", "2024年度参保由“正常参保”改为“参保暂停”", "催缴标记为已迁出"], change.lines

    status_change_undo(change_id=change.pk, actor=admin)
    d.refresh_from_db()
    last.refresh_from_db()
    assert d.status == Resident.Status.ACTIVE
    assert (last.status, last.status_reason, last.benefit_end) == (Enrollment.Status.PAID, reason_before, dt.date(2024, 12, 31))
    assert not RemindMark.objects.filter(resident=d).exists()
    assert Event.objects.filter(entity="resident", entity_id=str(d.pk), action="undo").count() == 1
    assert Event.objects.filter(entity="enrollment", entity_id=str(last.pk), action="undo").count() == 1
    change.refresh_from_db()
    assert change.undone_at is not None and change.undone_by_name


def test_undo_of_an_employee_mark_removes_the_flag(county, admin):
    d = county["d"]
    _, change = _mark(admin, d, outcome="employee_insurance", note="某公司职工医保")
    assert Flag.objects.filter(resident=d, resolved_at__isnull=True).exists()
    status_change_undo(change_id=change.pk, actor=admin)
    assert not Flag.objects.filter(resident=d).exists()


def test_undo_is_refused_to_another_user(county, admin, make_user):
    _, change = _mark(admin, county["d"])
    other = make_user("other_admin", role="county_admin", region_code=b.COUNTY)
    with pytest.raises(UndoError, match="只有办理人"):
        status_change_undo(change_id=change.pk, actor=other)
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.MOVED_AWAY


def test_undo_is_refused_after_ten_minutes_of_wall_clock(county, admin):
    _, change = _mark(admin, county["d"])
    StatusChange.objects.filter(pk=change.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10, seconds=1))
    with pytest.raises(UndoError, match="超过 10 分钟"):
        status_change_undo(change_id=change.pk, actor=admin)
    StatusChange.objects.filter(pk=change.pk).update(created_at=timezone.now() - dt.timedelta(minutes=9))
    status_change_undo(change_id=change.pk, actor=admin)


def test_undo_is_refused_twice(county, admin):
    _, change = _mark(admin, county["d"])
    status_change_undo(change_id=change.pk, actor=admin)
    with pytest.raises(UndoError, match="不能再次撤销"):
        status_change_undo(change_id=change.pk, actor=admin)
    assert Event.objects.filter(action="undo", entity="resident").count() == 1


def test_undo_is_refused_after_a_later_change_of_the_same_record(county, admin):
    d = county["d"]
    _, change = _mark(admin, d)
    last = Enrollment.objects.get(resident=d, benefit_year=2024)
    Enrollment.objects.filter(pk=last.pk).update(status=Enrollment.Status.PAID)  # any later writer
    with pytest.raises(UndoError, match="又有变更"):
        status_change_undo(change_id=change.pk, actor=admin)
    assert Resident.objects.get(pk=d.pk).status == Resident.Status.MOVED_AWAY


def test_undo_is_refused_after_a_later_event_on_the_resident(county, admin):
    from yibao.registry.services import resident_update

    d = county["d"]
    _, change = _mark(admin, d)
    resident_update(actor=admin, resident=Resident.objects.get(pk=d.pk), phone="13900000999")
    with pytest.raises(UndoError, match="又有变更"):
        status_change_undo(change_id=change.pk, actor=admin)


def test_undo_of_an_unknown_change_says_so(county, admin):
    with pytest.raises(UndoError, match="没有编号为 999 的"):
        status_change_undo(change_id=999, actor=admin)


def test_undo_of_a_suspension_takes_the_claim_back(county, admin):
    b_ = county["b"]
    this = b.enroll(b_, 2025, status=Enrollment.Status.REGISTERED)
    EnrollmentClaim.objects.create(id_number=this.id_number, benefit_year=2025, county_code=this.county_code,
                                   enrollment_id=this.pk)
    _, change = status_change_apply(
        actor=admin, resident=b_, kind="enrollment_suspend", capability="enrollment.edit", title="参保暂停",
        do=lambda: enrollment_services.enrollment_suspend(enrollment=this, actor=admin, reason="外地参保"))
    assert not EnrollmentClaim.objects.filter(enrollment_id=this.pk, released_at__isnull=True).exists()
    assert any("释放2025年度参保占位" in x for x in change.lines)
    status_change_undo(change_id=change.pk, actor=admin)
    this.refresh_from_db()
    assert this.status == Enrollment.Status.REGISTERED
    assert EnrollmentClaim.objects.filter(enrollment_id=this.pk, released_at__isnull=True).count() == 1


def test_undo_of_a_transfer_moves_the_person_and_their_rows_back(county, admin):
    d = county["d"]
    household_before = d.household_id
    last = Enrollment.objects.get(resident=d, benefit_year=2024)
    _, change = status_change_apply(
        actor=admin, resident=d, kind="enrollment_transfer", capability="enrollment.edit", title="县内迁移",
        do=lambda: enrollment_services.enrollment_transfer(enrollment=last, to_village_code=b.NANCUN, actor=admin,
                                                           reason="婚迁"))
    d.refresh_from_db()
    assert d.village_code == b.NANCUN and d.household_id != household_before
    new_household = d.household_id
    status_change_undo(change_id=change.pk, actor=admin)
    d.refresh_from_db()
    last.refresh_from_db()
    assert (d.village_code, d.household_id) == (b.DONGCUN, household_before)
    assert last.village_code == b.DONGCUN
    assert not b.Household.objects.filter(pk=new_household).exists()


def test_a_cli_change_is_undone_by_the_cli_only(county, admin):
    d = county["d"]
    _, change = _mark("命令行:tester", d)
    with pytest.raises(UndoError, match="只有办理人"):
        status_change_undo(change_id=change.pk, actor=admin)
    status_change_undo(change_id=change.pk, actor="命令行:tester")
    assert Resident.objects.get(pk=d.pk).status == Resident.Status.ACTIVE


# ---------------------------------------------------------------- API and CLI


def _post(client, url, payload=None):
    import json

    return client.post(url, json.dumps(payload or {}), content_type="application/json")


def test_api_mark_returns_its_change_and_the_maker_undoes_it(client, login, county):
    maker = login("village_collector", b.DONGCUN, username="api_maker")
    marked = _post(client, f"/api/remind/{county['d'].pk}/marks",
                   {"benefit_year": 2025, "outcome": "moved_away", "note": "迁往合肥"})
    assert marked.status_code == 201
    change_id = marked.json()["undo_change_id"]
    detail = client.get(f"/api/status-changes/{change_id}").json()
    assert detail["title"] == "丁 已标记为已迁出" and "户籍状态改为已迁出" in detail["lines"]
    login("village_collector", b.DONGCUN, username="api_other")
    refused = _post(client, f"/api/status-changes/{change_id}/undo")
    assert refused.status_code == 400 and "只有办理人" in refused.json()["detail"]
    login("village_collector", b.XICUN, username="api_foreign")
    assert _post(client, f"/api/status-changes/{change_id}/undo").status_code == 404
    assert client.get(f"/api/status-changes/{change_id}").status_code == 404
    client.force_login(maker)
    undone = _post(client, f"/api/status-changes/{change_id}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"] and undone.json()["undone_by"]
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE
    assert _post(client, f"/api/status-changes/{change_id}/undo").status_code == 400
    assert _post(client, "/api/status-changes/999999/undo").status_code == 404


def test_api_suspension_is_undoable(client, login, county):
    login(username="api_county")
    last = Enrollment.objects.get(resident=county["a"], benefit_year=2025)
    suspended = _post(client, f"/api/enrollments/{last.pk}/suspend", {"reason": "外地参保"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    change_id = suspended.json()["undo_change_id"]
    assert _post(client, f"/api/status-changes/{change_id}/undo").status_code == 200
    last.refresh_from_db()
    assert last.status == Enrollment.Status.PAID


def test_cli_undo_of_a_cli_change(county):
    import json

    from typer.testing import CliRunner

    from yibao.cli import app
    from yibao.cli.common import cli_actor

    _, change = _mark(cli_actor(), county["d"])
    result = CliRunner().invoke(app, ["status", "undo", str(change.pk), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["undone_at"]
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE
    again = CliRunner().invoke(app, ["status", "undo", str(change.pk)])
    assert again.exit_code != 0 and "不能再次撤销" in again.output
    show = CliRunner().invoke(app, ["status", "show", str(change.pk), "--json"])
    assert show.exit_code == 0 and json.loads(show.output)["title"] == "丁 已标记"
    assert "已于" in CliRunner().invoke(app, ["status", "show", str(change.pk)]).output
    _, second = _mark(cli_actor(), county["d"], outcome="deceased", note="病故")
    alias = CliRunner().invoke(app, ["undo", str(second.pk)])
    assert alias.exit_code == 0 and "已撤销" in alias.output
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE
    missing = CliRunner().invoke(app, ["status", "show", "424242"])
    assert missing.exit_code == 2 and "没有编号为 424242" in missing.output


@pytest.mark.parametrize("bad", ["abc", "9" * 40, "-1", ""])
def test_a_bad_undo_parameter_shows_the_page_without_a_banner(client, login, county, bad):
    login("village_collector", b.DONGCUN)
    response = client.get("/progress/remind/", {"village": b.DONGCUN, "year": 2025, "undo": bad})
    assert response.status_code == 200 and "撤销（10 分钟内有效）" not in response.content.decode()
    with pytest.raises(UndoError):
        status_change_undo(change_id=bad, actor="命令行:x")

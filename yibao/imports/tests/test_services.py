import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from yibao.core.jobs import job_run
from yibao.core.models import Event, Job
from yibao.imports import services, writers
from yibao.imports.reports import report_read
from yibao.imports.tests.conftest import (
    COUNTY, OTHER_COUNTY, OTHER_VILLAGE, RESIDENT_HEADER, VILLAGE, VILLAGE_2, make_id, write_csv, write_xlsx,
)
from yibao.regions.models import Region
from yibao.registry.models import EmployeeInsuranceRecord, Flag, Household, Identity, Resident


def import_residents(tmp_path, rows, name="r.csv", county=COUNTY):
    path = write_csv(tmp_path / name, RESIDENT_HEADER, rows)
    return services.residents_import(path=path, county_code=county, actor="测试")


# ---- residents ----------------------------------------------------------------------------------


def test_new_residents_households_and_heads(imported_family):
    rows, result = imported_family
    assert result == {"rows": 4, "imported": 4, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0,
                      "flagged": 0, "households": 2, "report": None}
    wife = Resident.objects.get(id_number=rows[1][0])
    assert (wife.name, wife.sex, wife.birth_date) == ("李秀兰", "F", dt.date(1986, 3, 4))
    assert (wife.county_code, wife.township_code, wife.village_code, wife.hukou_region_code) == (
        COUNTY, "340321100", VILLAGE, VILLAGE)
    assert wife.relation_to_head == "配偶" and wife.phone == "13800000002" and len(wife.row_hash) == 32
    household = Household.objects.get(county_code=COUNTY, number="H001")
    assert household.head.name == "张大山" and household.village_code == VILLAGE
    assert set(household.members.values_list("name", flat=True)) == {"张大山", "李秀兰", "张小山"}
    single = Resident.objects.get(id_number=rows[3][0])
    assert single.village_code == "340321001001" and single.household.head_id == single.pk


def test_same_file_twice_changes_nothing(imported_family, tmp_path):
    rows, _ = imported_family
    before = list(Resident.objects.order_by("pk").values())
    households = list(Household.objects.order_by("pk").values())
    events = Event.objects.count()
    again = import_residents(tmp_path, rows, name="again.csv")
    assert (again["imported"], again["updated"], again["unchanged"], again["households"]) == (0, 0, 4, 0)
    assert list(Resident.objects.order_by("pk").values()) == before
    assert list(Household.objects.order_by("pk").values()) == households
    assert Event.objects.count() == events


def test_a_new_head_of_an_existing_household_is_recorded(imported_family, tmp_path):
    """The next year's register names the wife as 户主 of H001: the household's head follows it."""
    rows, _ = imported_family
    rows = [list(r) for r in rows]
    rows[0][5], rows[1][5] = "配偶", "户主"
    import_residents(tmp_path, rows, name="new-head.csv")
    household = Household.objects.get(county_code=COUNTY, number="H001")
    assert household.head.id_number == rows[1][0]
    assert Household.objects.get(county_code=COUNTY, number="H002").head.id_number == rows[3][0]  # untouched


def test_changed_row_updates_the_resident_and_records_before_and_after(imported_family, tmp_path):
    rows, _ = imported_family
    rows = [list(r) for r in rows]
    rows[1][1], rows[1][7] = "李秀英", "13900000000"
    rows[2][4], rows[2][6] = "H003", VILLAGE_2  # the son moves out to his own household in 张圩村
    rows[2][5] = "户主"
    result = import_residents(tmp_path, rows, name="changed.csv")
    assert (result["imported"], result["updated"], result["unchanged"], result["households"]) == (0, 2, 2, 1)
    wife = Resident.objects.get(id_number=rows[1][0])
    assert (wife.name, wife.phone) == ("李秀英", "13900000000")
    event = Event.objects.get(entity="resident", entity_id=str(wife.pk), action="import_update")
    assert event.before == {"name": "李秀兰", "phone": "13800000002"}
    assert event.after == {"name": "李秀英", "phone": "13900000000"}
    assert event.actor_name == "测试" and "户籍名单导入" in event.reason
    son = Resident.objects.get(id_number=rows[2][0])
    assert son.household.number == "H003" and son.household.head_id == son.pk and son.village_code == VILLAGE_2
    moved = Event.objects.get(entity="resident", entity_id=str(son.pk))
    assert moved.before["household_number"] == "H001" and moved.after["household_number"] == "H003"
    assert moved.before["village_code"] == VILLAGE and moved.after["relation_to_head"] == "户主"


def test_columns_missing_from_a_file_are_left_alone(imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "short.csv", ["身份证号码", "姓名", "村（社区）"], [[rows[1][0], "李秀兰", VILLAGE]])
    result = services.residents_import(path=path, county_code=COUNTY, actor="测试")
    wife = Resident.objects.get(id_number=rows[1][0])
    assert wife.phone == "13800000002" and wife.household.number == "H001" and wife.relation_to_head == "配偶"
    assert result["rows"] == 1


def test_rejected_rows_go_to_the_report_and_valid_rows_are_imported(regions, tmp_path):
    good = make_id(dt.date(1990, 1, 1), 11)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows = [
        [good, "钱一", "男", "", "H1", "户主", VILLAGE, ""],
        [bad, "钱二", "男", "", "H1", "子", VILLAGE, ""],
        [make_id(seq=13), "钱三", "女", "", "H1", "子", VILLAGE, ""],
        [make_id(seq=15), "钱四", "男", "", "H1", "子", "不存在村", ""],
    ]
    result = import_residents(tmp_path, rows)
    assert (result["rows"], result["imported"], result["rejected"]) == (4, 1, 3)
    assert list(Resident.objects.values_list("name", flat=True)) == ["钱一"]
    lines = report_read(result["report"])
    assert [(l["sheet"], l["行号"], l["列"], l["值"]) for l in lines] == [
        ("错误（未导入）", 3, "身份证号码", bad),
        ("错误（未导入）", 4, "性别", "女"),
        ("错误（未导入）", 5, "村（社区）", "不存在村"),
    ]
    assert lines[0]["原因"] == f"身份证号码校验位错误（末位应为 {good[-1]}）"
    assert lines[1]["原因"] == "性别与身份证号码不符（号码显示为男）"


def test_xlsx_register_imports_like_csv(regions, tmp_path, family):
    path = write_xlsx(tmp_path / "r.xlsx", RESIDENT_HEADER, family, title="怀远县户籍名单")
    result = services.residents_import(path=path, county_code=COUNTY, actor="测试")
    assert result["imported"] == 4 and result["rejected"] == 0
    assert Resident.objects.get(id_number=family[2][0]).birth_date == dt.date(2012, 6, 7)


def test_a_crash_midway_leaves_the_database_as_it_was(imported_family, tmp_path, monkeypatch):
    rows, _ = imported_family
    before = list(Resident.objects.order_by("pk").values())
    households = list(Household.objects.order_by("pk").values())
    changed = [list(r) for r in rows] + [[make_id(seq=51), "新来的", "男", "", "H009", "户主", VILLAGE, ""]]
    changed[0][1] = "张大川"

    calls = []

    def boom(**kwargs):  # residents and households are written by now; the flag step fails
        calls.append(Resident.objects.count())
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(writers, "flags_other_county", boom)
    with pytest.raises(RuntimeError):
        import_residents(tmp_path, changed, name="crash.csv")
    assert calls == [5]  # the new resident was inserted inside the transaction …
    assert list(Resident.objects.order_by("pk").values()) == before  # … and rolled back with the update
    assert list(Household.objects.order_by("pk").values()) == households
    assert not Event.objects.filter(action="import_update").exists()


@pytest.mark.django_db(transaction=True)
def test_a_crashed_job_commits_nothing(tmp_path, monkeypatch, family):
    """The same with real commits (no test transaction around it), through the job runner."""
    from yibao.imports.tests.conftest import REGIONS

    for code, name in REGIONS:
        Region.objects.create(code=code, name=name, level=len(code), parent_id=Region.parent_code_of(code),
                              county_code=code[:6])
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    job = services.import_job_create(kind="residents", path=path, county_code=COUNTY, actor="测试")

    def boom(**kwargs):
        raise RuntimeError("断电")

    monkeypatch.setattr(writers, "event_bulk_record", boom)
    monkeypatch.setattr(writers, "flags_other_county", lambda **kw: boom())
    job = job_run(job)
    assert job.status == Job.Status.FAILED and "断电" in job.error
    assert Resident.objects.count() == 0 and Household.objects.count() == 0
    monkeypatch.undo()
    job = job_run(services.import_job_create(kind="residents", path=path, county_code=COUNTY, actor="测试"))
    assert job.status == Job.Status.SUCCEEDED and Resident.objects.count() == 4


def test_same_id_in_another_county_flags_both_sides(regions, tmp_path):
    shared = make_id(dt.date(1988, 2, 2), 21)
    other = import_residents(tmp_path, [[shared, "孙二", "男", "", "W1", "户主", OTHER_VILLAGE, ""]], "w.csv",
                             county=OTHER_COUNTY)
    assert other["flagged"] == 0
    result = import_residents(tmp_path, [[shared, "孙二", "男", "", "H1", "户主", VILLAGE, ""]])
    assert result["flagged"] == 2
    flags = {f.county_code: f for f in Flag.objects.filter(kind=Flag.Kind.OTHER_COUNTY)}
    assert set(flags) == {COUNTY, OTHER_COUNTY}
    assert flags[COUNTY].detail == f"同一身份证号码已在五河县（{OTHER_COUNTY}）登记"
    assert flags[OTHER_COUNTY].detail == f"同一身份证号码已在怀远县（{COUNTY}）登记"
    assert Event.objects.filter(action="flag").count() == 2
    again = import_residents(tmp_path, [[shared, "孙二", "男", "", "H1", "户主", VILLAGE, ""]], "again.csv")
    assert again["flagged"] == 0 and Flag.objects.count() == 2


def test_unknown_county_or_missing_regions_fail_the_whole_file(regions, tmp_path, family):
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    with pytest.raises(Exception, match="还没有村（社区）区划"):
        services.residents_import(path=path, county_code="340323", actor="测试")


# ---- identities ---------------------------------------------------------------------------------


IDENTITY_HEADER = ["身份证号码", "姓名", "身份类别", "起始日期", "终止日期"]


def test_every_identity_a_person_holds_is_kept(imported_family, tmp_path):
    rows, _ = imported_family
    head = rows[0][0]
    minzheng = write_csv(tmp_path / "mz.csv", IDENTITY_HEADER, [[head, "张大山", "低保对象", "2024-01-01", ""]])
    canlian = write_csv(tmp_path / "cl.csv", IDENTITY_HEADER, [[head, "张大山", "重度残疾人", "", ""]])
    a = services.identities_import(path=minzheng, county_code=COUNTY, department="民政", actor="测试")
    b = services.identities_import(path=canlian, county_code=COUNTY, department="canlian", actor="测试")
    assert a["imported"] == b["imported"] == 1
    held = dict(Identity.objects.filter(resident__id_number=head).values_list("code", "department"))
    assert held == {"dibao": "minzheng", "disabled_severe": "canlian"}
    identity = Identity.objects.get(code="dibao")
    assert identity.valid_from == dt.date(2024, 1, 1) and identity.source_name == "民政：mz.csv"


def test_identity_list_twice_then_changed(imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "mz.csv", IDENTITY_HEADER,
                     [[rows[0][0], "张大山", "特困人员", "2024-01-01", ""], [rows[1][0], "李秀兰", "低保", "", ""]])
    assert services.identities_import(path=path, county_code=COUNTY, department="民政", actor="测试")["imported"] == 2
    again = services.identities_import(path=path, county_code=COUNTY, department="民政", actor="测试")
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 2)
    path = write_csv(tmp_path / "mz2.csv", IDENTITY_HEADER,
                     [[rows[0][0], "张大山", "特困人员", "2024-01-01", "2024-06-30"], [rows[1][0], "李秀兰", "低保", "", ""]])
    changed = services.identities_import(path=path, county_code=COUNTY, department="民政", actor="测试")
    assert (changed["imported"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
    identity = Identity.objects.get(code="tekun")
    assert identity.valid_to == dt.date(2024, 6, 30)
    event = Event.objects.get(entity="identity", entity_id=str(identity.pk))
    assert event.before["valid_to"] is None and event.after["valid_to"] == "2024-06-30"


def test_department_clerk_may_only_import_their_own_department(imported_family, tmp_path, make_user):
    clerk = make_user("mz", role="department_clerk", region_code=COUNTY, department="minzheng")
    path = write_csv(tmp_path / "cl.csv", IDENTITY_HEADER, [[imported_family[0][0][0], "张大山", "重度残疾人", "", ""]])
    with pytest.raises(PermissionDenied, match="只能导入本部门（民政）"):
        services.import_job_create(kind="identities", path=path, county_code=COUNTY, department="残联", actor=clerk)
    with pytest.raises(PermissionDenied):
        services.import_job_create(kind="identities", path=path, county_code=OTHER_COUNTY, department="民政", actor=clerk)
    job = job_run(services.import_job_create(kind="identities", path=path, county_code=COUNTY, department="民政",
                                             actor=clerk))
    # a 残联 identity on a 民政 list is rejected row by row
    assert job.status == Job.Status.SUCCEEDED and job.result["rejected"] == 1 and not Identity.objects.exists()


# ---- employees ----------------------------------------------------------------------------------


def test_employee_list_flags_residents_in_any_county_once(imported_family, tmp_path):
    rows, _ = imported_family
    elsewhere = make_id(dt.date(1979, 9, 9), 61, area="340322")
    import_residents(tmp_path, [[elsewhere, "周外", "男", "", "W1", "户主", OTHER_VILLAGE, ""]], "w.csv",
                     county=OTHER_COUNTY)
    outsider = make_id(dt.date(1980, 1, 1), 71, area="340302")
    header = ["身份证号码", "姓名", "单位名称", "参保日期"]
    path = write_csv(tmp_path / "zg.csv", header, [
        [rows[0][0], "张大山", "怀远县自来水公司", "2019-07-01"],
        [elsewhere, "周外", "", ""],
        [outsider, "吴外", "蚌埠某公司", "2020-01-01"],
    ])
    result = services.employees_import(path=path, county_code=COUNTY, actor="测试")
    assert (result["imported"], result["flagged"]) == (3, 2)
    assert EmployeeInsuranceRecord.objects.filter(county_code=COUNTY).count() == 3
    head_flag = Flag.objects.get(resident__id_number=rows[0][0])
    assert head_flag.kind == Flag.Kind.EMPLOYEE_INSURANCE
    assert head_flag.detail == "在职工医保名单中（怀远县自来水公司），参保日期 2019-07-01（zg.csv）"
    assert Flag.objects.get(resident__id_number=elsewhere).county_code == OTHER_COUNTY
    again = services.employees_import(path=path, county_code=COUNTY, actor="测试")
    assert (again["imported"], again["unchanged"], again["flagged"]) == (0, 3, 0)
    assert Flag.objects.count() == 2
    path = write_csv(tmp_path / "zg2.csv", header, [[rows[0][0], "张大山", "怀远县水务集团", "2019-07-01"]])
    changed = services.employees_import(path=path, county_code=COUNTY, actor="测试")
    assert changed["updated"] == 1
    assert EmployeeInsuranceRecord.objects.get(id_number=rows[0][0]).employer == "怀远县水务集团"
    assert Event.objects.filter(entity="employee_record", action="import_update").count() == 1


def test_employee_list_carries_months_paid_in_a_year(imported_family, tmp_path):
    rows, _ = imported_family
    header = ["身份证号码", "姓名", "缴费月数", "缴费年度"]
    path = write_csv(tmp_path / "zg.csv", header, [[rows[0][0], "张大山", "4", "2025"], [rows[1][0], "李秀兰", "", ""]])
    assert services.employees_import(path=path, county_code=COUNTY, actor="测试")["imported"] == 2
    head = EmployeeInsuranceRecord.objects.get(id_number=rows[0][0])
    assert (head.months_paid, head.months_year) == (4, 2025)
    assert EmployeeInsuranceRecord.objects.get(id_number=rows[1][0]).months_paid is None
    path = write_csv(tmp_path / "zg2.csv", header, [[rows[0][0], "张大山", "2", "2025"]])
    assert services.employees_import(path=path, county_code=COUNTY, actor="测试")["updated"] == 1
    assert EmployeeInsuranceRecord.objects.get(id_number=rows[0][0]).months_paid == 2


def test_employee_list_months_must_be_0_to_12_with_a_year(imported_family, tmp_path):
    rows, _ = imported_family
    header = ["身份证号码", "姓名", "缴费月数", "缴费年度"]
    path = write_csv(tmp_path / "zg.csv", header, [[rows[0][0], "张大山", "13", "2025"], [rows[1][0], "李秀兰", "3", ""]])
    result = services.employees_import(path=path, county_code=COUNTY, actor="测试")
    assert result["rejected"] == 2 and not EmployeeInsuranceRecord.objects.exists()
    reasons = {(line["行号"], line["原因"]) for line in report_read(result["report"])}
    assert any("缴费月数应为0至12的整数" in r for _, r in reasons)
    assert any("须同时写缴费年度" in r for _, r in reasons)


def test_resolved_flag_is_raised_again_by_a_new_list(imported_family, tmp_path):
    from django.utils import timezone

    rows, _ = imported_family
    path = write_csv(tmp_path / "zg.csv", ["身份证号码", "姓名"], [[rows[1][0], "李秀兰"]])
    services.employees_import(path=path, county_code=COUNTY, actor="测试")
    Flag.objects.update(resolved_at=timezone.now(), resolution="已停保")
    assert services.employees_import(path=path, county_code=COUNTY, actor="测试")["flagged"] == 1
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 1


# ---- regions ------------------------------------------------------------------------------------


def test_regions_import_adds_renames_and_repeats(db, tmp_path):
    header = ["区划代码", "名称"]
    rows = [["340321", "怀远县"], ["340321100", "榴城镇"], ["340321100201", "王庄村"]]
    first = services.regions_import(path=write_csv(tmp_path / "a.csv", header, rows), actor="测试")
    assert (first["imported"], first["rejected"]) == (3, 0)
    village = Region.objects.get(code="340321100201")
    assert (village.level, village.parent_id, village.county_code) == (12, "340321100", "340321")
    again = services.regions_import(path=write_csv(tmp_path / "b.csv", header, rows), actor="测试")
    assert again["unchanged"] == 3
    rows[2][1] = "王庄社区"
    renamed = services.regions_import(path=write_csv(tmp_path / "c.csv", header, rows), actor="测试")
    assert renamed["updated"] == 1 and Region.objects.get(code="340321100201").name == "王庄社区"
    event = Event.objects.get(entity="region")
    assert (event.before, event.after) == ({"name": "王庄村"}, {"name": "王庄社区"})


# ---- the job row is the import history ------------------------------------------------------------


def test_job_records_who_when_which_file_and_counts(imported_family, tmp_path, make_user):
    rows, _ = imported_family
    admin = make_user("admin", role="county_admin", region_code=COUNTY, display_name="王管理")
    bad = [list(rows[0])]
    bad[0][2] = "女"
    path = write_csv(tmp_path / "户籍.csv", RESIDENT_HEADER, bad + rows[1:])
    job = services.import_job_create(kind="residents", path=path, file_name="户籍.csv", county_code=COUNTY, actor=admin)
    job = job_run(job)
    assert job.status == Job.Status.SUCCEEDED
    assert job.created_by == admin and job.created_by_name == "王管理"
    assert job.input_name == "户籍.csv"
    assert job.input_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert job.result["rejected"] == 1 and job.result["unchanged"] == 3
    assert job.report_path == job.result["report"] and "任务" in job.report_path
    assert job.finished_at >= job.started_at >= job.created_at


def test_broken_file_fails_the_job_with_a_chinese_message(regions, tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04broken")
    job = job_run(services.import_job_create(kind="residents", path=path, county_code=COUNTY, actor="测试"))
    assert job.status == Job.Status.FAILED
    assert "不是 Excel（xlsx）格式" in job.message
    assert Resident.objects.count() == 0


def test_import_parameters_are_checked(regions, tmp_path):
    from django.core.exceptions import ValidationError

    path = write_csv(tmp_path / "x.csv", ["身份证号码"], [["1"]])
    with pytest.raises(ValidationError, match="未知的县级区划代码：340399"):
        services.import_job_create(kind="residents", path=path, county_code="340399")
    with pytest.raises(ValidationError, match="未知的部门：统战"):
        services.import_job_create(kind="identities", path=path, county_code=COUNTY, department="统战")
    with pytest.raises(ValidationError, match="未知的导入类型"):
        services.import_job_create(kind="payments", path=path)


def test_job_progress_file_is_written_while_running(imported_family, tmp_path, monkeypatch):
    """The page's bar reads a small file; the runner reports its steps there."""
    from yibao.core import progress as progress_mod

    seen = []
    real_save = progress_mod.JobProgress._save

    def spy(self, force=False):
        seen.append((self.total, self.message))
        return real_save(self, force)

    monkeypatch.setattr(progress_mod.JobProgress, "_save", spy)
    rows, _ = imported_family
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, rows)
    job_run(services.import_job_create(kind="residents", path=path, county_code=COUNTY, actor="测试"))
    messages = [m for _t, m in seen]
    assert "读取文件" in messages and "写入数据库" in messages and (4, "写入数据库") in seen


def test_old_area_codes_are_counted_per_row_and_summed_up_per_code_in_the_report(regions, tmp_path):
    rows = [[make_id(dt.date(1950 + i, 1, 1), 11 + 2 * i), f"老{i}", "男", "", f"H{i}", "户主", VILLAGE, ""] for i in range(12)]
    rows.append([make_id(dt.date(1990, 1, 1), 99, area="349999"), "旧码", "男", "", "H99", "户主", VILLAGE, ""])
    result = import_residents(tmp_path, rows)
    assert (result["imported"], result["rejected"], result["warnings"]) == (13, 0, 13)
    lines = report_read(result["report"])
    assert [(l["sheet"], l["行号"], l["值"]) for l in lines] == [("警告（已导入）", 2, "340321"), ("警告（已导入）", 14, "349999")]
    assert "1983" in lines[0]["原因"] and "共 12 行（出生年份 1950—1961），如第 2、3、4、5、6、7、8、9、10、11 行" in lines[0]["原因"]
    assert "不在区划代码表中" in lines[1]["原因"] and "共 1 行" in lines[1]["原因"]


def test_rejected_rows_of_the_other_lists_are_reported(imported_family, tmp_path):
    rows, _ = imported_family
    employees = write_csv(tmp_path / "zg.csv", ["身份证号码", "姓名", "参保日期"], [
        [rows[0][0], "张大山", "2019-07-01"], ["12345", "某人", ""], [rows[1][0], "李秀兰", "去年"]])
    result = services.employees_import(path=employees, county_code=COUNTY, actor="测试")
    assert (result["imported"], result["rejected"]) == (1, 2)
    assert [(l["行号"], l["列"], l["值"]) for l in report_read(result["report"])] == [
        (3, "身份证号码", "12345"), (4, "参保日期", "去年")]

    regions = write_csv(tmp_path / "qh.csv", ["区划代码", "名称"], [["340321100203", "新村"], ["34032110020", "坏"]])
    result = services.regions_import(path=regions, actor="测试")
    assert (result["imported"], result["rejected"]) == (1, 1)
    line = report_read(result["report"])[0]
    assert (line["行号"], line["列"]) == (3, "区划代码") and "实际为11位" in line["原因"]

    identities = write_csv(tmp_path / "mz.csv", ["身份证号码", "身份类别"], [[rows[0][0], "低保"], [rows[1][0], "贫困户"]])
    result = services.identities_import(path=identities, county_code=COUNTY, department="民政", actor="测试")
    assert (result["imported"], result["rejected"]) == (1, 1)
    assert "未知的资助身份“贫困户”" in report_read(result["report"])[0]["原因"]


def test_household_ids_taken_by_the_import_do_not_collide_with_later_ones(imported_family, tmp_path):
    imported = set(Household.objects.values_list("pk", flat=True))
    later = Household.objects.create(county_code=COUNTY, township_code="340321100", village_code=VILLAGE, number="手工1")
    assert later.pk not in imported and later.pk > max(imported)
    result = import_residents(tmp_path, [[make_id(seq=81), "后来", "男", "", "H050", "户主", VILLAGE, ""]], "more.csv")
    newest = Household.objects.get(number="H050")
    assert result["households"] == 1 and newest.pk > later.pk and newest.head.name == "后来"

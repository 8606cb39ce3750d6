import json
from pathlib import Path

from typer.testing import CliRunner

from yibao.cli import app
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, REGIONS, write_csv
from yibao.registry.models import Flag, Identity, Resident

runner = CliRunner()
KEYS = {"rows", "imported", "updated", "unchanged", "rejected", "warnings", "report"}


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_regions_then_residents_as_json(db, tmp_path, family):
    regions = write_csv(tmp_path / "regions.csv", ["区划代码", "名称"], REGIONS)
    result = run("import", "regions", regions, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == len(REGIONS)

    rows = [list(r) for r in family]
    rows[2][2] = "女"
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, rows)
    result = run("import", "residents", path, "--county", COUNTY, "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert KEYS <= set(body)
    assert {k: body[k] for k in KEYS - {"report"}} == {
        "rows": 4, "imported": 3, "updated": 0, "unchanged": 0, "rejected": 1, "warnings": 0}
    assert Path(body["report"]).exists()
    assert Resident.objects.count() == 3

    again = json.loads(run("import", "residents", path, "--county", COUNTY, "--json").stdout)
    assert (again["imported"], again["unchanged"], again["rejected"]) == (0, 3, 1)


def test_plain_output_is_a_chinese_summary(db, tmp_path, regions, family):
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    result = run("import", "residents", path, "--county", COUNTY, "--quiet")
    assert result.exit_code == 0
    assert "户籍名单（任务 #" in result.stdout and "新增 4" in result.stdout


def test_identities_and_employees_default_to_the_only_county(db, tmp_path, family):
    from yibao.regions.models import Region

    for code, name in REGIONS:
        if code.startswith(COUNTY):
            Region.objects.create(code=code, name=name, level=len(code), parent_id=Region.parent_code_of(code),
                                  county_code=code[:6])
    run("import", "residents", write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family), "--county", COUNTY)
    ids = write_csv(tmp_path / "mz.csv", ["公民身份号码", "资助类别"], [[family[0][0], "特困供养人员"], [family[1][0], "低保"]])
    body = json.loads(run("import", "identities", ids, "--department", "民政", "--json").stdout)
    assert body["imported"] == 2 and KEYS <= set(body)
    assert set(Identity.objects.values_list("department", flat=True)) == {"minzheng"}
    body = json.loads(run("import", "identities", ids, "--department", "minzheng", "--json").stdout)
    assert body["unchanged"] == 2
    employees = write_csv(tmp_path / "zg.csv", ["身份证号码", "姓名", "单位"], [[family[1][0], "李秀兰", "县医院"]])
    body = json.loads(run("import", "employees", employees, "--json").stdout)
    assert body["imported"] == 1 and body["flagged"] == 1 and body["report"] is None
    assert Flag.objects.get().resident.name == "李秀兰"


def test_bad_input_exits_non_zero_with_a_chinese_message(db, tmp_path, regions, family):
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    missing = run("import", "residents", tmp_path / "nope.csv", "--county", COUNTY, "--json")
    assert missing.exit_code != 0 and "找不到文件" in missing.stderr and missing.stdout == ""
    unknown = run("import", "residents", path, "--county", "340399", "--json")
    assert unknown.exit_code != 0 and "未知的县级区划代码：340399" in unknown.stderr and unknown.stdout == ""
    department = run("import", "identities", path, "--department", "统战", "--county", COUNTY)
    assert department.exit_code != 0 and "未知的部门" in department.stderr
    broken = tmp_path / "b.xlsx"
    broken.write_bytes(b"PK\x03\x04garbage")
    result = run("import", "residents", broken, "--county", COUNTY, "--json")
    assert result.exit_code == 1 and "导入失败" in result.stderr and "xlsx" in result.stderr
    assert result.stdout == ""


def test_several_counties_need_county_option(db, tmp_path, regions, family):
    path = write_csv(tmp_path / "zg.csv", ["身份证号码"], [[family[0][0]]])
    result = run("import", "employees", path)
    assert result.exit_code != 0 and "--county" in result.stderr


def test_regions_file_may_hold_provinces_and_cities(db, tmp_path):
    """A province (2 digits) and a city (4) load like the rest, also in the 12-digit statistical form; a county
    loaded before its city is adopted by it, and a county whose city is never loaded keeps no parent."""
    from yibao.regions.models import Region

    first = write_csv(tmp_path / "counties.csv", ["区划代码", "名称"], [("340321", "怀远县"), ("421223", "崇阳县")])
    assert run("import", "regions", first, "--json").exit_code == 0
    assert Region.objects.get(code="340321").parent_id is None
    upper = write_csv(tmp_path / "upper.csv", ["区划代码", "名称"],
                      [("340000000000", "安徽省"), ("340300000000", "蚌埠市"), ("340322", "五河县")])
    result = run("import", "regions", upper, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 3
    assert Region.objects.get(code="34").level == Region.Level.PROVINCE
    assert Region.objects.get(code="3403").parent_id == "34"
    assert Region.objects.get(code="340322").parent_id == "3403"  # came in the same file
    assert Region.objects.get(code="340321").parent_id == "3403"  # loaded before its city
    assert Region.objects.get(code="421223").parent_id is None  # 咸宁市 never loaded
    bad = write_csv(tmp_path / "bad.csv", ["区划代码", "名称"], [("340", "三位")])
    report = json.loads(run("import", "regions", bad, "--json").stdout)
    assert report["rejected"] == 1 and not Region.objects.filter(code="340").exists()

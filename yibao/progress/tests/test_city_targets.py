"""The city sets its counties' targets: by hand for several at once, or from a city task table. All or nothing."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.enrollment.tests.shuozhou import CITY, shuozhou
from yibao.progress.city import city_target_rows, city_targets_import, city_targets_set
from yibao.progress.models import Target
from yibao.progress.services import target_set, targets_import

pytestmark = pytest.mark.django_db

TABLE = ("朔州市2024年度城乡居民医保参保任务分解表\n单位：人\n序号,县（市、区）,应参保人数\n"
         "1,朔城区,300000\n2,平鲁区,150000\n3,山阴县,180000\n合计,,630000\n")


@pytest.fixture
def city_admin(make_user):
    shuozhou()
    return make_user("sz_admin", role="city_admin", region_code=CITY)


def totals():
    return dict(Target.objects.filter(benefit_year=2024).values_list("region_code", "total"))


def test_city_sets_several_counties_and_the_city_is_their_sum(city_admin):
    plan = city_targets_set(actor=city_admin, city_code=CITY, benefit_year=2024,
                            totals={"140602": "300000", "140603": 150000, "140621": ""}, reason="市政府任务分解")
    assert [c["county_code"] for c in plan["changes"]] == ["140602", "140603"]
    assert totals() == {"140602": 300000, "140603": 150000}
    assert set(Target.objects.values_list("level", flat=True)) == {6}  # no city row is stored
    rows = city_target_rows(scope=city_admin_scope(city_admin), city_code=CITY, benefit_year=2024)
    assert rows["total"] == 450000 and rows["counties_without_target"] == 1
    assert [r["total"] for r in rows["counties"]] == [300000, 150000, None]
    events = Event.objects.filter(entity="target", action="adjust")
    assert sorted(events.values_list("county_code", flat=True)) == ["140602", "140603"]
    assert "市政府任务分解" in events.first().reason
    assert Event.objects.get(entity="targets_city").county_code == CITY


def city_admin_scope(user):
    from yibao.accounts.scope import scope_for

    return scope_for(user)


def test_one_bad_county_sets_none_and_names_each(city_admin):
    with pytest.raises(ValidationError) as caught:
        city_targets_set(actor=city_admin, city_code=CITY, benefit_year=2024,
                         totals={"140602": "300000", "140603": "-5", "421223": "1000", "140699": "5"}, reason="分解")
    messages = caught.value.message_dict
    assert "平鲁区的应参保人数不能为负数" in messages["140603"][0]
    assert "不是朔州市（1406）的县" in messages["421223"][0]
    assert "不是朔州市已导入的县" in messages["140699"][0]
    assert totals() == {}
    with pytest.raises(ValidationError, match="须填写原因"):
        city_targets_set(actor=city_admin, city_code=CITY, benefit_year=2024, totals={"140602": 1}, reason=" ")


def test_county_account_cannot_set_the_citys_counties(city_admin, make_user):
    county = make_user("sc_admin", role="county_admin", region_code="140602")
    with pytest.raises(PermissionDenied):
        city_targets_set(actor=county, city_code=CITY, benefit_year=2024, totals={"140602": 1}, reason="x")
    with pytest.raises(PermissionDenied):  # nor a neighbouring county's by itself
        target_set(actor=county, region_code="140603", benefit_year=2024, total=1, reason="x")
    other = make_user("xn_admin", role="city_admin", region_code="4212")
    with pytest.raises(PermissionDenied):
        target_set(actor=other, region_code="140602", benefit_year=2024, total=1, reason="x")
    with pytest.raises(ValidationError, match="的目标是所辖各县之和"):
        target_set(actor=city_admin, region_code=CITY, benefit_year=2024, total=1, reason="x")
    target_set(actor=city_admin, region_code="140621", benefit_year=2024, total=9, reason="市调整")
    assert totals() == {"140621": 9}


def test_city_task_table_imports_all_counties(city_admin):
    result = city_targets_import(actor=city_admin, content=TABLE.encode(), filename="朔州任务.csv")
    assert (result["city_code"], result["benefit_year"], result["rows"], result["imported"]) == (CITY, 2024, 3, 3)
    assert totals() == {"140602": 300000, "140603": 150000, "140621": 180000}
    assert set(Target.objects.values_list("source", flat=True)) == {"import"}
    assert Event.objects.filter(entity="target", action="import").count() == 3
    again = city_targets_import(actor=city_admin, content=TABLE.encode(), filename="朔州任务.csv")
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_city_task_table_is_all_or_nothing_with_row_errors(city_admin):
    bad = TABLE.replace("2,平鲁区,150000", "2,怀仁市,150000").replace("3,山阴县,180000", "3,山阴县,十八万")
    with pytest.raises(ValidationError) as caught:
        city_targets_import(actor=city_admin, content=bad.encode(), filename="朔州任务.csv")
    text = "；".join(caught.value.messages)
    assert "第6行“应参保人数”应为人数" in text
    caught_twice = TABLE.replace("2,平鲁区,150000", "2,朔城,150000").replace("合计,,630000", "合计,,999")
    with pytest.raises(ValidationError) as second:
        city_targets_import(actor=city_admin, content=caught_twice.encode(), filename="朔州任务.csv")
    text = "；".join(second.value.messages)
    assert "第5行：“朔城”与第4行是同一个县（朔城区）" in text and "第7行合计与各行之和不符" in text
    outside = TABLE.replace("2,平鲁区,150000", "2,怀仁市,150000")
    with pytest.raises(ValidationError, match="第5行：“怀仁市”不是朔州市（1406）已导入的县"):
        city_targets_import(actor=city_admin, content=outside.encode(), filename="朔州任务.csv")
    assert totals() == {} and not Event.objects.filter(entity__startswith="target").exists()


def test_a_county_table_goes_to_the_county_import_and_a_city_table_not(city_admin, make_user):
    township_table = "镇（场）,合计\n朔城镇,100\n"
    with pytest.raises(ValidationError, match="按乡镇分解的任务表"):
        city_targets_import(actor=city_admin, content=township_table.encode(), filename="t.csv", benefit_year=2024)
    with pytest.raises(ValidationError, match="全市任务表"):
        targets_import(actor="命令行", content=TABLE.encode(), filename="朔州任务.csv", county_code="140602")
    county = make_user("sc_admin", role="county_admin", region_code="140602")
    with pytest.raises(PermissionDenied):
        city_targets_import(actor=county, content=TABLE.encode(), filename="朔州任务.csv", city_code=CITY)


def test_cli_set_show_and_import_city(city_admin, tmp_path, make_user):
    runner = CliRunner()
    make_user("sc_admin", role="county_admin", region_code="140602")
    set_ = runner.invoke(app, ["targets", "set", "--region", "140603", "--year", "2024", "--total", "1500",
                               "--reason", "市调整", "--user", "sz_admin", "--json"])
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.stdout)["total"] == 1500
    refused = runner.invoke(app, ["targets", "set", "--region", "140603", "--year", "2024", "--total", "1",
                                  "--reason", "x", "--user", "sc_admin"])
    assert refused.exit_code == 2 and "不在当前账号的管辖范围内" in refused.stderr
    path = tmp_path / "朔州任务.csv"
    path.write_text(TABLE, encoding="utf-8")
    imported = runner.invoke(app, ["targets", "import-city", str(path), "--user", "sz_admin", "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["updated"] == 1
    shown = json.loads(runner.invoke(app, ["targets", "city", "--city", CITY, "--year", "2024", "--json"]).stdout)
    assert shown["total"] == 630000 and [c["name"] for c in shown["counties"]] == ["朔城区", "平鲁区", "山阴县"]
    path.write_text(TABLE.replace("山阴县", "应县"), encoding="utf-8")
    bad = runner.invoke(app, ["targets", "import-city", str(path), "--city", CITY, "--json"])
    assert bad.exit_code == 2 and "第6行：“应县”不是朔州市（1406）已导入的县" in bad.stderr

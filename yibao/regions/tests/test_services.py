import pytest

from yibao.core.models import Event
from yibao.regions.models import Region
from yibao.regions.services import RegionDataError, region_upsert_many, regions_load_seed


def test_load_seed_builds_both_trees(db):
    result = regions_load_seed(actor="测试")
    assert result == {"rows": 34, "created": 34, "renamed": 0, "unchanged": 0}
    # 湖北省 → 咸宁市 → 崇阳县, 随州市 → 随县: counties hang under their cities
    assert Region.objects.get(code="4212").parent_id == "42" and Region.objects.get(code="4212").level == 4
    assert Region.objects.get(code="421223").parent_id == "4212"
    assert Region.objects.get(code="421321").parent_id == "4213"
    assert Region.objects.get(code="42").kind_label == "省（自治区、直辖市）"
    xiaoling = Region.objects.get(code="421223200")
    assert xiaoling.parent_id == "421223" and xiaoling.level == 9 and xiaoling.kind_label == "乡"
    assert xiaoling.children.count() == 10
    assert Region.objects.get(code="421223200201").name == "白马"
    assert Region.objects.filter(parent_id="421321").count() == 18
    assert Region.objects.get(code="421321400").name == "万福店农场"
    assert Region.objects.get(code="421321400").kind_label.startswith("农场")
    # one per county, and one for the province and each city
    assert Event.objects.filter(entity="region", action="import").count() == 5


def test_load_seed_twice_changes_nothing(db):
    regions_load_seed(actor="测试")
    again = regions_load_seed(actor="测试")
    assert again["created"] == 0 and again["renamed"] == 0 and again["unchanged"] == 34
    assert Region.objects.count() == 34


def test_rename_is_recorded(db):
    regions_load_seed(actor="测试")
    result = region_upsert_many(rows=[("421223200201", "白马村")], actor="测试")
    assert result["renamed"] == 1
    assert Region.objects.get(code="421223200201").name == "白马村"
    event = Event.objects.filter(entity="region").latest("id")
    assert event.after["renamed"] == 1 and event.after["renamed_codes"] == ["421223200201"]


def test_parents_may_come_later_in_the_same_rows(db):
    region_upsert_many(rows=[("340321100201", "村甲"), ("340321", "怀远县"), ("340321100", "镇甲")], actor="测试")
    assert Region.objects.get(code="340321100201").parent_id == "340321100"


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("42122", "短")], "第2行：区划代码“42122”应为2位（省）、4位（市）、6位（县）、9位（乡镇）或12位（村、社区）数字"),
        ([("421223", "")], "第2行：区划代码 421223 缺少名称"),
        ([("421223", "崇阳县"), ("421223", "崇阳")], "第3行：区划代码 421223 与第2行重复"),
        ([("999999100", "孤镇")], "第2行：孤镇（999999100）的上级 999999 不存在，请先导入上级区划"),
    ],
)
def test_bad_rows_are_refused_whole(db, rows, message):
    with pytest.raises(RegionDataError) as info:
        region_upsert_many(rows=[("111111", "好县"), *rows], actor="测试")
    assert message in info.value.errors
    assert not Region.objects.exists(), "nothing is half-written"

"""Reading task tables in the seeds' own layouts."""

from pathlib import Path

import pytest

from yibao.progress.tables import TaskTableError, parse_task_table, total_mismatches

DATA = Path(__file__).resolve().parent / "data"


def read(name: str):
    path = DATA / name
    return parse_task_table(path.read_bytes(), path.name)


@pytest.mark.parametrize("name", ["xiaoling_2024_tasks.xlsx", "xiaoling_2024_tasks.csv"])
def test_xiaoling_layout_is_read_with_its_printed_total(name):
    table = read(name)
    assert table.level == 12 and table.layout == "villages"
    assert table.headers == ["村名", "总人口", "应参保人数", "咸惠宝应参保人数"]
    assert [r.name for r in table.rows][:3] == ["白马", "锁石", "三角"] and len(table.rows) == 10
    assert table.sums() == {"total": 31053, "population": 39140, "supplementary": 7997}
    assert (table.printed_total.total, table.printed_total.population, table.printed_total.supplementary) == (31053, 39140, 7997)
    assert table.supplementary_label == "咸惠宝应参保人数"
    assert table.rows[8].total == 4773  # printed "4773 " with a trailing space
    assert table.year_hint == 2024 and "肖岭乡" in table.title
    assert total_mismatches(table) == []


@pytest.mark.parametrize("name", ["suixian_2023_targets.xlsx", "suixian_2023_targets.csv"])
def test_suixian_layout_keeps_names_as_printed_and_skips_the_note(name):
    table = read(name)
    assert table.level == 9 and table.layout == "towns"
    assert table.rows[0].name == "厉山镇（含经济开发区）" and table.rows[-1].name == "万福店农场"
    assert len(table.rows) == 18
    assert table.sums() == {"total": 643118, "special": 23113, "others": 620005}
    assert table.year_hint == 2023
    assert total_mismatches(table) == []


def test_a_total_row_that_differs_is_named_with_both_figures():
    content = "村名,应参保人数\n白马,100\n锁石,50\n合计,151\n".encode()
    table = parse_task_table(content, "t.csv")
    [message] = total_mismatches(table)
    assert "合计行印为 151" in message and "各行相加为 150" in message and "第4行" in message


def test_a_row_whose_split_does_not_add_up_is_refused_with_its_row_number():
    content = "序号,镇（场）,合计,特群免缴,其他居民\n1,高城镇,19349,761,18589\n合计,,19349,761,18589\n".encode()
    with pytest.raises(TaskTableError) as exc:
        parse_task_table(content, "t.csv")
    assert "第2行（高城镇）" in str(exc.value) and "相差 -1" in str(exc.value)


def test_bad_numbers_and_duplicates_are_all_listed():
    content = "村名,应参保人数\n白马,一百\n锁石,-5\n白马,30\n".encode()
    with pytest.raises(TaskTableError) as exc:
        parse_task_table(content, "t.csv")
    errors = exc.value.errors
    assert any("第2行“应参保人数”应为人数" in e and "一百" in e for e in errors)
    assert any("第3行" in e for e in errors)
    assert any("第4行：“白马”与第2行重复" in e for e in errors)


def test_a_file_without_the_known_header_is_refused():
    with pytest.raises(TaskTableError, match="找不到表头"):
        parse_task_table("姓名,金额\n张三,1\n".encode(), "t.csv")


def test_gbk_csv_and_half_width_brackets_and_thousands_commas():
    content = '序号,镇(场),合计\n1,高城镇,"19,349"\n'.encode("gbk")
    table = parse_task_table(content, "t.csv")
    assert table.level == 9 and table.rows[0].total == 19349
    assert any("没有“合计”行" in w for w in table.warnings)


def test_unsupported_file_type():
    with pytest.raises(TaskTableError, match="不支持的文件类型"):
        parse_task_table(b"x", "t.pdf")


def test_a_count_too_large_for_a_column_is_a_row_error_not_a_crash():
    content = f"村名,应参保人数\n白马,{'9' * 400}\n锁石,{'9' * 10}\n".encode()
    with pytest.raises(TaskTableError) as exc:
        parse_task_table(content, "t.csv")
    assert any("第2行“应参保人数”应为人数" in e for e in exc.value.errors)
    assert any("第3行“应参保人数”应为人数" in e for e in exc.value.errors)


@pytest.mark.parametrize("label,message", [("补" * 41 + "应参保人数", "最多 40 个字"), ("补充\u202e应参保人数", "控制字符")])
def test_a_supplementary_label_too_long_or_with_control_characters_is_refused(label, message):
    content = f"村名,应参保人数,{label}\n白马,100,3\n".encode()
    with pytest.raises(TaskTableError) as exc:
        parse_task_table(content, "t.csv")
    assert any(message in e for e in exc.value.errors)

"""The 催缴 workbook of a county or township: a sheet per village, 汇总, names beside codes, masking as the list."""

import io
import json
from urllib.parse import unquote

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.progress.remindbook import sheet_names
from yibao.progress.tests import builders as b

pytestmark = pytest.mark.django_db


def _book(content: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def _file_name(response) -> str:
    header = response["Content-Disposition"]
    assert header.startswith("attachment; filename=\"") and "filename*=UTF-8''" in header
    return unquote(header.split("filename*=UTF-8''", 1)[1])


def test_sheet_names_are_unique_short_and_legal():
    names = sheet_names(["东村", "东村", "东村", "a/b:c*d?[e]", "history", "长" * 40, "长" * 40, ""])
    assert names[:3] == ["东村", "东村（2）", "东村（3）"]
    assert names[3] == "a_b_c_d__e_"
    assert names[4] == "history（2）"
    assert all(len(n) <= 31 for n in names) and len({n.casefold() for n in names}) == len(names)
    assert "汇总" not in names and sheet_names(["汇总"]) == ["汇总（2）"]


def test_county_workbook_has_a_sheet_per_village_and_a_summary(client, login, county):
    login("county_admin", b.COUNTY)
    response = client.get("/progress/remind/export.xlsx", {"region": b.COUNTY, "year": 2025, "on": "2024-10-31"})
    assert response.status_code == 200
    assert _file_name(response) == "怀远县-340321-催缴名单-2025.xlsx"
    sheets = _book(response.content)
    assert list(sheets) == ["汇总", "东村", "西村", "南村", "北村"]
    summary = sheets["汇总"]
    assert summary[0][0].startswith("怀远县（340321） 2025年度")
    by_code = {r[3]: r for r in summary[4:] if r[3]}
    assert by_code[b.DONGCUN][1:5] == ["榴城镇", "东村", b.DONGCUN, 2]
    assert by_code[b.XICUN][4] == 0
    assert summary[4 + 4][1] == "合计" and summary[4 + 4][4] == 2
    dong = sheets["东村"]
    assert dong[0][0].startswith(f"榴城镇 / 东村（{b.DONGCUN}）")
    assert [r[3] for r in dong[3:5]] == ["乙", "丁"]
    assert dong[3][5] == county["b"].id_number  # a county administrator sees whole numbers, as on the list
    assert "共 0 人" in sheets["西村"][1][0]


def test_township_workbook_stays_in_the_township_and_masks_for_an_auditor(client, login, county):
    login("township_officer", b.LIUCHENG)
    response = client.get("/progress/remind/export.xlsx", {"township": b.LIUCHENG, "year": 2025})
    assert response.status_code == 200 and _file_name(response) == "榴城镇-340321100-催缴名单-2025.xlsx"
    assert list(_book(response.content)) == ["汇总", "东村", "西村"]
    assert client.get("/progress/remind/export.xlsx", {"region": b.LONGKANG, "year": 2025}).status_code == 403
    assert client.get("/progress/remind/export.xlsx", {"region": "12x", "year": 2025}).status_code == 404
    client.logout()
    login("auditor", b.COUNTY)
    sheets = _book(client.get("/progress/remind/export.xlsx", {"region": b.LIUCHENG, "year": 2025}).content)
    shown = sheets["东村"][3][5]
    assert shown != county["b"].id_number and "*" in shown


def test_village_export_names_the_village_beside_its_code(client, login, county):
    login("village_collector", b.DONGCUN)
    response = client.get("/progress/remind/export.xlsx", {"year": 2025})
    assert response.status_code == 200 and _file_name(response) == f"东村-{b.DONGCUN}-催缴名单-2025.xlsx"
    assert list(_book(response.content)) == ["催缴名单"]


def test_api_exports_the_workbook(client, login, county):
    login("county_admin", b.COUNTY)
    response = client.get("/api/remind/export.xlsx", {"region": b.LIUCHENG, "year": 2025})
    assert response.status_code == 200 and _file_name(response) == "榴城镇-340321100-催缴名单-2025.xlsx"
    assert list(_book(response.content)) == ["汇总", "东村", "西村"]
    assert client.get("/api/remind/export.xlsx", {"region": "abc", "year": 2025}).status_code == 404


def test_cli_exports_the_county_workbook(county, tmp_path):
    out = tmp_path / "book.xlsx"
    result = CliRunner().invoke(app, ["remind", "export", "--county", b.COUNTY, "--year", "2025", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["people"] == 2 and data["region_code"] == b.COUNTY
    assert list(_book(out.read_bytes()))[:2] == ["汇总", "东村"]
    bad = CliRunner().invoke(app, ["remind", "export", "--township", "123", "--year", "2025"])
    assert bad.exit_code != 0 and "9位" in bad.output

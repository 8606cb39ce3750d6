"""The change log through the API (GET /api/events) and the CLI (yibao events list / export)."""

import json
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection import services as s
from yibao.collection.tests import factories as f
from yibao.core.idnumber import mask_id_number
from yibao.core.models import Event
from yibao.core.services import event_record

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def paid():
    f.campaign()
    person = f.person(name="张三")
    s.payment_collect(residents=[person], channel="cash", actor="王芳", paid_at=f.at("2024-10-08"), amount=Decimal("400"))
    event_record(county_code="340321", entity="export", entity_id="x", action="export", actor="李四", reason="导出参保人名单")
    event_record(county_code="421223", entity="export", entity_id="y", action="export", actor="别县", reason="导出")
    return person


def test_api_filters_by_person_and_action_within_the_county(client, make_user, paid):
    client.force_login(make_user("aud", role="auditor", region_code="340321"))
    data = client.get("/api/events", {"person": paid.id_number, "action": "payment.booked"}).json()
    assert data["count"] == 1
    item = data["items"][0]
    assert item["action"] == "payment.booked" and item["action_label"] == "收款入账"
    assert f"王芳 为 张三（{mask_id_number(paid.id_number)}）收款 400.00 元" in item["sentence"]
    assert paid.id_number not in json.dumps(data, ensure_ascii=False)
    everything = client.get("/api/events").json()
    assert everything["count"] == Event.objects.filter(county_code="340321").count()
    assert client.get("/api/events", {"user": "李四"}).json()["items"][0]["sentence"].startswith("李四 导出参保人名单")


def test_api_refuses_bad_filters_and_roles_without_audit(client, make_user, paid):
    client.force_login(make_user("aud", role="auditor", region_code="340321"))
    bad = client.get("/api/events", {"action": "nope.nope"})
    assert bad.status_code == 400 and "未知的动作" in bad.json()["detail"]
    assert client.get("/api/events", {"date_from": "2025-02-30"}).status_code == 400
    client.force_login(make_user("clerk", role="department_clerk", region_code="340321", department="minzheng"))
    assert client.get("/api/events").status_code == 403


def test_page_filters_bad_dates_in_chinese_and_exports(client, make_user, paid):
    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    page = client.get("/events/", {"from": "2025-13-01"})
    assert page.status_code == 200 and "起始日期格式" in page.content.decode()
    response = client.get("/events/export.xlsx", {"person": "张三"})
    assert response.status_code == 200
    assert Event.objects.filter(entity="export", entity_id="events", after__rows__gt=0).exists()


def test_cli_list_json_and_export(tmp_path, paid):
    result = runner.invoke(app, ["events", "list", "--person", "张三", "--action", "receipt.issued", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["count"] == 1 and data["items"][0]["sentence"].startswith("王芳 开具票据 340321-2025-0000001")
    text = runner.invoke(app, ["events", "list", "--user", "李四", "--county", "340321"])
    assert text.exit_code == 0 and "李四 导出参保人名单" in text.stdout
    bad = runner.invoke(app, ["events", "list", "--from", "yesterday"])
    assert bad.exit_code == 2 and "日期格式" in bad.output
    out = tmp_path / "audit.xlsx"
    done = runner.invoke(app, ["events", "export", "--out", str(out), "--county", "340321", "--json"])
    assert done.exit_code == 0, done.output
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("变更记录").to_python()
    assert rows[1] == ["时间", "操作人", "角色", "区划", "动作", "变更内容", "原因", "请求编号"]
    assert json.loads(done.stdout)["rows"] == len(rows) - 2 == Event.objects.filter(county_code="340321").count() - 1
    assert paid.id_number not in str(rows) and any("收款 400.00 元" in str(r[5]) for r in rows[2:])
    assert all(r[3].endswith("（340321）") for r in rows[2:])

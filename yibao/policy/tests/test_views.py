import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.policy.loader import BUILTIN_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector(client, make_user):
    client.force_login(make_user("collector", role="village_collector", region_code="340321100001"))
    return client


def test_quote_page_needs_login(client):
    response = client.get("/policy/quote/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_quote_page_preselects_the_users_county_policy(collector):
    response = collector.get("/policy/quote/")
    assert response.status_code == 200
    assert 'value="anhui-huaiyuan-2025" selected' in response.content.decode()


def test_quote_page_shows_amounts_and_explanation(collector):
    response = collector.post("/policy/quote/", {
        "policy": "anhui-huaiyuan-2025", "birth_date": "1955-08-01", "paid_on": "2024-10-08",
        "identities": ["dibao", "entitled_group"], "tier": "1",
    })
    html = response.content.decode()
    assert 'data-field="payable">400元' in html
    assert 'data-field="refund_later">400元' in html
    assert "先缴后补" in html and "重点优抚对象" in html


def test_quote_page_htmx_returns_only_the_result(collector):
    response = collector.post(
        "/policy/quote/",
        {"policy": "shanxi-shuozhou-2024", "birth_date": "1960-01-01", "paid_on": "2023-09-26", "tier": "1"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html and "不予受理" in html and "每月1日至25日" in html
    from yibao.policy.loader import load_policy

    heading = html.split("<h2>", 1)[1].split("</h2>", 1)[0]
    assert load_policy("shanxi-shuozhou-2024").data.title in heading and "shanxi-shuozhou-2024" not in heading


def test_quote_page_reports_bad_input(collector):
    response = collector.post("/policy/quote/", {"policy": "anhui-huaiyuan-2025", "birth_date": "1980-01-01", "paid_on": "2024-10-01", "tier": "2"})
    assert "没有2档" in response.content.decode()


def test_policy_list_and_detail_pages_quote_the_notice(collector):
    assert "anhui-huaiyuan-2025" in collector.get("/policy/").content.decode()
    detail = collector.get("/policy/anhui-huaiyuan-2025/").content.decode()
    assert "对低保对象给予340元定额资助" in detail and "国家规定" in detail
    assert "参保对象" in detail and "港澳台居民居住证" in detail and "外籍专家" in detail
    assert "就业、入学、入伍、婚嫁、死亡" in detail and "本系统解释" in detail
    assert "不受户籍限制" in collector.get("/policy/hubei-chongyang-xiaoling-2024/").content.decode()
    assert collector.get("/policy/nowhere-2030/").status_code == 404


def test_only_policy_managers_may_upload(collector, client, make_user):
    assert collector.get("/policy/upload/").status_code == 403
    client.force_login(make_user("admin", role="county_admin", region_code="140602"))
    files = {
        "policy_file": SimpleUploadedFile("shanxi-shuozhou-2024.yaml", (BUILTIN_DIR / "shanxi-shuozhou-2024.yaml").read_bytes()),
        "cases_file": SimpleUploadedFile("shanxi-shuozhou-2024.cases.yaml", (BUILTIN_DIR / "shanxi-shuozhou-2024.cases.yaml").read_bytes()),
    }
    response = client.post("/policy/upload/", files)
    html = response.content.decode()
    assert "通过" in html and "用例 20 个，失败 0 个" in html


def test_policy_detail_names_sections_not_keys(collector):
    """The page speaks Chinese: a section the file points to by key is named by its heading; rule ids stay hidden."""
    from yibao.policy.templatetags.policy_text import section_names

    detail = collector.get("/policy/anhui-huaiyuan-2025/").content.decode()
    assert "（见“退费”）" in detail and "见 refunds" not in detail
    assert "<code>main_window</code>" not in detail and "<code>migrant_extension</code>" not in detail
    assert section_names("见 unknown_key") == "见 unknown_key" and section_names("") == ""


@pytest.mark.django_db
def test_results_name_the_policy_by_title_and_fold_the_version(client, make_user):
    """政策版本 was a bare hash; a user reads the policy's title, the hash stays for audit under 政策校验码."""
    from django.template import Context, Template

    from yibao.policy.loader import load_policy

    policy = load_policy("anhui-huaiyuan-2025")
    html = Template("{% load policy_text %}{% policy_source v %}").render(Context({"v": policy.version}))
    assert f"依据政策：{policy.data.title}" in html and "政策校验码" in html and policy.version in html
    old = Template("{% load policy_text %}{% policy_source v %}").render(Context({"v": "0" * 64}))
    assert "已更新前的旧版本" in old


def test_quote_page_takes_employee_months_household_and_identity_date(collector, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(Path(__file__).parent / "fixtures"))
    page = collector.get("/policy/quote/").content.decode()
    for label in ("职工医保缴费月数", "同户其他家庭成员已参加本年度居民医保", "资助身份认定日期"):
        assert label in page
    worker = {"policy": "hunan-shiyan-2026", "birth_date": "1985-01-01", "paid_on": "2026-02-10", "tier": "1",
              "group": "employee_to_resident", "event_date": "2025-11-15", "employee_months": "6"}
    assert "参保人2025年职工医保缴费6个月" in collector.post("/policy/quote/", worker).content.decode()
    assert "职工医保缴费月数应为0至12" in collector.post("/policy/quote/", worker | {"employee_months": "13"}).content.decode()
    baby = {"policy": "hunan-shiyan-2026", "birth_date": "2026-03-01", "paid_on": "2026-04-15", "tier": "1",
            "group": "newborn", "household_enrolled": "yes"}
    assert "同户有其他家庭成员已参加2026年度城乡居民医保" in collector.post("/policy/quote/", baby).content.decode()
    poor = {"policy": "hunan-shiyan-2026", "birth_date": "1970-01-01", "paid_on": "2026-03-01", "tier": "1",
            "identities": ["dibao"], "identity_since": "2026-02-01"}
    assert "低保对象身份自2026年2月1日起认定，不符合条件" in collector.post("/policy/quote/", poor).content.decode()
    detail = collector.get("/policy/hunan-shiyan-2026/").content.decode()
    assert "固定 90 天" in detail

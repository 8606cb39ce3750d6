"""The vocabulary and diff pages, check findings on the upload page, and the authoring API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.policy.loader import BUILTIN_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector(client, make_user):
    client.force_login(make_user("collector", role="village_collector", region_code="340321100001"))
    return client


@pytest.fixture
def admin(client, make_user):
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    return client


def test_vocabulary_page_lists_every_word_with_an_example(collector):
    from yibao.policy.catalog import vocabulary

    html = collector.get("/policy/vocabulary/").content.decode()
    data = vocabulary()
    for section in ("identities", "groups", "anchors", "checklist"):
        for row in data[section]:
            assert f'data-code="{row["code"]}"' in html
    for row in data["conditions"]:
        assert f'data-code="{row["key"]}"' in html
    assert "最低生活保障对象" in html and "<code>when: {groups: [newborn]}</code>" in html


def test_pages_need_login(client):
    for url in ("/policy/vocabulary/", "/policy/diff/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_diff_page_compares_two_policies(collector):
    html = collector.get("/policy/diff/", {"before": "hubei-suixian-2023", "after": "anhui-huaiyuan-2025"}).content.decode()
    assert "hubei-suixian-2023 → anhui-huaiyuan-2025" in html
    assert "居民个人缴费标准（1档）金额：350 → 400" in html
    assert '<li data-kind="removed"><span class="badge bad">删去</span> 删去规则 migrant_renewal_extension' in html


def test_diff_page_same_policy_and_unknown_policy(collector):
    same = collector.get("/policy/diff/", {"before": "anhui-huaiyuan-2025", "after": "anhui-huaiyuan-2025"})
    assert 'data-count="0"' in same.content.decode() and "两项政策相同" in same.content.decode()
    bad = collector.get("/policy/diff/", {"before": "anhui-huaiyuan-2025", "after": "<x>"})
    assert bad.status_code == 200
    assert "未找到政策：&lt;x&gt;。请从列表中选择" in bad.content.decode()


def test_policy_list_links_to_vocabulary_and_diff(collector):
    html = collector.get("/policy/").content.decode()
    assert 'href="/policy/vocabulary/"' in html and 'href="/policy/diff/"' in html


def upload(client, policy_text: str, install=False, replace=False):
    data = {
        "policy_file": SimpleUploadedFile("anhui-huaiyuan-2025.yaml", policy_text.encode("utf-8")),
        "cases_file": SimpleUploadedFile("anhui-huaiyuan-2025.cases.yaml",
                                         (BUILTIN_DIR / "anhui-huaiyuan-2025.cases.yaml").read_bytes()),
    }
    if install:
        data["install"] = "on"
    if replace:
        data["replace"] = "on"
    return client.post("/policy/upload/", data).content.decode()


def test_upload_page_shows_each_error_with_its_line(admin):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8").replace("anchor: birth_date", "anchor: birthday")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "anchor: birthday" in t)
    html = upload(admin, text)
    assert f'<li data-line="{line}"><strong>第{line}行</strong> 第2条规则的“待遇起始日”的“起算点”（rules[2].start.anchor）' in html
    assert "最接近的是“birth_date”" in html and "Input should" not in html


def test_upload_page_shows_checklist_warnings(admin):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8")
    text = text[: text.index("refunds:\n")] + text[text.index("targets:\n"):]
    html = upload(admin, text)
    assert "提醒（不妨碍安装）" in html and "文件没有写“退费”（refunds）" in html


def test_page_install_over_an_installed_policy_names_the_checkbox(client, make_user, tmp_path, monkeypatch):
    from yibao.policy.yearnew import policy_new

    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path / "var"))
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    path = policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2026", folder=tmp_path / "new")
    data = lambda **extra: {  # noqa: E731
        "policy_file": SimpleUploadedFile(path.name, path.read_bytes()),
        "cases_file": SimpleUploadedFile("anhui-huaiyuan-2026.cases.yaml",
                                         (path.parent / "anhui-huaiyuan-2026.cases.yaml").read_bytes()),
        "install": "on", **extra}
    assert "已安装政策 anhui-huaiyuan-2026" in client.post("/policy/upload/", data(), follow=True).content.decode()
    html = client.post("/policy/upload/", data(), follow=True).content.decode()
    assert "请勾选“覆盖已安装的同名政策”后再提交" in html and "--replace" not in html
    assert "已安装政策 anhui-huaiyuan-2026" in client.post("/policy/upload/", data(replace="on"), follow=True).content.decode()


# ---- API ---------------------------------------------------------------------------------------------

def test_api_vocabulary_and_diff(client):
    data = client.get("/api/policy-vocabulary").json()
    assert any(i["code"] == "dibao" for i in data["identities"])
    diff = client.get("/api/policies/anhui-huaiyuan-2025/diff/hubei-suixian-2023").json()
    assert diff["before"] == "anhui-huaiyuan-2025" and any(c["section"] == "规则" for c in diff["changes"])
    missing = client.get("/api/policies/anhui-huaiyuan-2025/diff/nowhere-2020")
    assert missing.status_code == 404 and "未找到政策 nowhere-2020" in missing.json()["detail"]


def test_api_check_gives_issues_with_lines(admin):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8").replace("amount: 340", "amount: 三百四十")
    response = admin.post("/api/policy-check", {
        "file_name": "anhui-huaiyuan-2025.yaml", "policy_yaml": text,
        "cases_yaml": (BUILTIN_DIR / "anhui-huaiyuan-2025.cases.yaml").read_text(encoding="utf-8"),
    }, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "三百四十" in t)
    assert body["valid"] is False and body["ok"] is False
    assert body["issues"] == [{"line": line, "path": "“资助”的第2项资助的“金额”（subsidies.items[2].amount）",
                               "message": "应为数字（金额写阿拉伯数字，如 400 或 12.5），实际写的是“三百四十”"}]


def test_api_check_passes_a_good_file_and_needs_the_right(client, make_user):
    payload = {
        "file_name": "shanxi-shuozhou-2024.yaml",
        "policy_yaml": (BUILTIN_DIR / "shanxi-shuozhou-2024.yaml").read_text(encoding="utf-8"),
        "cases_yaml": (BUILTIN_DIR / "shanxi-shuozhou-2024.cases.yaml").read_text(encoding="utf-8"),
    }
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    body = client.post("/api/policy-check", payload, content_type="application/json").json()
    assert body["ok"] is True and body["cases"] == 20 and body["warnings"] == []
    client.force_login(make_user("collector", role="village_collector", region_code="340321100001"))
    response = client.post("/api/policy-check", payload, content_type="application/json")
    assert response.status_code == 403 and "无权" in response.json()["detail"]
    client.logout()
    assert client.post("/api/policy-check", payload, content_type="application/json").status_code == 401


def test_detail_page_links_to_the_diff_and_shows_the_checklist(collector):
    html = collector.get("/policy/shanxi-shuozhou-2024/").content.decode()
    assert 'href="/policy/diff/?after=shanxi-shuozhou-2024"' in html
    assert '<li data-item="waiting_periods">待遇等待期：通知未涉及（2024年度早于国办发〔2024〕38号' in html
    assert '<li data-item="standard">个人缴费标准（各档次、各群体）：已写</li>' in html
    assert "<title>朔州市2024年度" in html and html.count('id="checklist"') == 1


def test_upload_page_compares_a_checked_file_with_last_year(admin, tmp_path):
    from yibao.policy.yearnew import policy_new

    path = policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2026", folder=tmp_path)
    html = admin.post("/policy/upload/", {
        "policy_file": SimpleUploadedFile(path.name, path.read_bytes()),
        "cases_file": SimpleUploadedFile("anhui-huaiyuan-2026.cases.yaml",
                                         (tmp_path / "anhui-huaiyuan-2026.cases.yaml").read_bytes()),
    }).content.decode()
    assert "与上一年（anhui-huaiyuan-2025）相比" in html
    assert '<li data-kind="changed">集中征缴期的起始日：2024年9月1日 → 2025年9月1日（顺延1年）</li>' in html
    assert "待复核" in html  # the review marks are warnings on the page too

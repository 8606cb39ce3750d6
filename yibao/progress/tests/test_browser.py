"""The dashboard in Debian's chromium on a phone-sized screen: charts render with the right data, and drill down."""

import pytest

from yibao.progress.tests import builders as b

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def option(page, chart: str, path: str):
    return page.evaluate(f"window.progressCharts.{chart}.getOption().{path}")


def wait_for_charts(page, *names):
    page.wait_for_function("() => window.progressCharts !== undefined")
    for name in names:
        page.locator(f"#chart-{name} canvas").first.wait_for()


def test_county_dashboard_renders_charts_and_drills_down_to_a_village(page, live_server, make_user, county):
    make_user("admin", role="county_admin", region_code=b.COUNTY)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/progress/?year=2025&on=2024-10-31")
    wait_for_charts(page, "units", "history", "special")
    assert page.evaluate("typeof window.echarts") == "object"
    assert page.evaluate("[...document.scripts].every(s => !s.src || s.src.startsWith(location.origin))")
    # bars: one per township, the rate in percent, the pace line at 50%
    assert option(page, "units", "yAxis[0].data") == ["榴城镇", "龙亢镇"]
    assert [d["value"] for d in option(page, "units", "series[0].data")] == [66.67, 10]
    assert option(page, "units", "series[0].markLine.data[0].xAxis") == 50
    # the daily curve: cumulative enrollments against the pace line up to the deadline
    days = option(page, "history", "xAxis[0].data")
    assert days[0] == "2024-09-01" and days[-1] == "2024-12-31"
    cumulative = option(page, "history", "series[0].data")
    assert cumulative[days.index("2024-09-03")] == 4 and cumulative[days.index("2024-10-31")] == 5
    assert option(page, "history", "series[1].data")[-1] == 16
    # special groups: 1 of 2 enrolled, against 100%
    assert option(page, "special", "series[0].data[0].value") == 50
    assert page.locator("[data-field=enrolled]").inner_text() == "5"
    # the county's 序时人数 (⌈16 × 0.5⌉), in its figure and the table's 合计 row alike
    assert page.locator("[data-field=expected]").inner_text() == "8"
    assert page.locator("tr.total [data-field=total-expected]").inner_text() == "8"
    assert page.locator("tr.total").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # drill down by the table link, then by clicking a bar of the chart
    page.click("table.units a:has-text('榴城镇')")
    page.wait_for_url(lambda url: f"region={b.LIUCHENG}" in url)
    wait_for_charts(page, "units")
    assert option(page, "units", "yAxis[0].data") == ["西村", "东村"]  # sorted by rate
    assert [d["value"] for d in option(page, "units", "series[0].data")] == [100, 50]
    page.locator("#chart-units").scroll_into_view_if_needed()  # the click lands inside the screen
    point = page.evaluate("window.progressCharts.units.convertToPixel({seriesIndex: 0}, [25, 1])")
    box = page.locator("#chart-units").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_url(lambda url: f"region={b.DONGCUN}" in url)
    assert "东村 2025年度征缴进度" in page.locator("h1").inner_text()
    wait_for_charts(page, "history", "special")
    assert page.locator("#chart-units").count() == 0
    assert page.locator("[data-field=rank]").inner_text() == "第 2 名"


def test_a_collector_lands_on_their_village(page, live_server, make_user, county):
    make_user("collector", role="village_collector", region_code=b.XICUN)
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/progress/?year=2025")
    wait_for_charts(page, "history", "special")
    assert "西村 2025年度征缴进度" in page.locator("h1").inner_text()
    assert page.locator("[data-field=rate]").inner_text() == "100.00%"
    assert page.locator(".crumbs a").count() == 0  # the township and county are outside the collector's scope
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_collector_works_the_remind_list_on_a_phone(page, live_server, make_user, county):
    make_user("collector", role="village_collector", region_code=b.DONGCUN)
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/progress/remind/?year=2025&on=2024-10-31")
    people = page.locator("li.person")
    assert people.count() == 2 and people.nth(1).locator(".person-name").inner_text() == "丁"
    assert people.nth(0).locator(".owed").inner_text().startswith("60.00元")
    assert people.nth(1).locator("a[href^='tel:']").inner_text().endswith("13900000004")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.evaluate("window.fullReloads = 0; window.addEventListener('beforeunload', () => window.fullReloads++)")
    ding = people.nth(1)
    ding.locator("select[name=outcome]").select_option("moved_away")
    ding.locator("input[name=note]").fill("2024年10月迁往合肥市")
    ding.locator("button").click()
    sheet = ding.locator("[data-testid=status-confirm]")
    sheet.wait_for()
    assert "丁 将标记为已迁出" in sheet.inner_text() and "户籍状态改为已迁出" in sheet.inner_text()
    assert "2024年度参保由“正常参保”改为“参保暂停”" in sheet.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    sheet.locator("[data-testid=status-confirm-ok]").click()
    ding.locator(".mark-result p.ok").wait_for()
    assert "已标记 丁：已迁出" in ding.locator(".mark-result").inner_text()
    assert ding.locator("[data-testid=status-undo-button]").inner_text() == "撤销（10 分钟内有效）"
    assert page.evaluate("window.fullReloads") == 0
    page.click("nav.tabs a:has-text('已核实不再参保')")
    page.wait_for_url(lambda url: "state=closed" in url)
    assert page.locator("li.person .person-name").all_inner_texts() == ["丁"]
    assert "已迁出" in page.locator("li.person").inner_text()


def test_a_collector_marks_moved_away_confirms_and_undoes_it_on_a_phone(page, live_server, make_user, county):
    from yibao.registry.models import Resident

    make_user("collector", role="village_collector", region_code=b.DONGCUN)
    login(page, live_server, "collector")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/progress/remind/?year=2025&on=2024-10-31")
    ding = page.locator("li.person").nth(1)
    ding.locator("select[name=outcome]").select_option("moved_away")
    ding.locator("input[name=note]").fill("2024年10月迁往合肥市")
    ding.locator("button").click()
    ding.locator("[data-testid=status-confirm]").wait_for()
    assert Resident.objects.get(pk=county["d"].pk).status == "active"  # asking changed nothing
    ding.locator("[data-testid=status-confirm-ok]").click()
    undo = ding.locator("[data-testid=status-undo-button]")
    undo.wait_for()
    assert Resident.objects.get(pk=county["d"].pk).status == "moved_away"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    undo.click()
    ding.locator("[data-testid=undo-result]").wait_for()
    assert "已撤销：丁 已标记为已迁出" in ding.locator("[data-testid=undo-result]").inner_text()
    assert Resident.objects.get(pk=county["d"].pk).status == "active"
    page.reload()
    assert "丁" in page.locator("li.person .person-name").all_inner_texts()
    assert not errors, errors


def test_the_remind_mark_works_without_javascript(browser, live_server, make_user, county):
    from yibao.registry.models import Resident

    make_user("collector", role="village_collector", region_code=b.DONGCUN)
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server, "collector")
        page.goto(f"{live_server.url}/progress/remind/?year=2025&on=2024-10-31")
        ding = page.locator("li.person").nth(1)
        ding.locator("select[name=outcome]").select_option("deceased")
        ding.locator("input[name=note]").fill("2024年11月病故")
        ding.locator("button").click()
        page.locator("[data-testid=status-confirm]").wait_for()
        assert "丁 将标记为已死亡" in page.locator("[data-testid=status-confirm]").inner_text()
        page.click("[data-testid=status-confirm-ok]")
        page.locator("[data-testid=status-undo]").wait_for()
        assert Resident.objects.get(pk=county["d"].pk).status == "deceased"
        page.click("[data-testid=status-undo-button]")
        page.locator(".messages li:has-text('已撤销')").wait_for()
        assert Resident.objects.get(pk=county["d"].pk).status == "active"
    finally:
        context.close()


def test_a_collectors_home_shows_the_villages_progress_and_leads_to_the_remind_list(page, live_server, make_user, county):
    make_user("cun", role="village_collector", region_code=b.DONGCUN)
    login(page, live_server, "cun")
    progress = page.locator("[data-card=progress]")
    assert "2 / 4 人" in progress.inner_text() and "参保率 50.00%" in progress.inner_text()
    remind = page.locator("[data-card=remind]")
    assert "2 人" in remind.inner_text() and "上年参保 3 人，已续保 1 人" in remind.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    remind.click()
    page.wait_for_url(lambda url: "/progress/remind/" in url)
    names = page.locator("main").inner_text()
    assert "乙" in names and "丁" in names and "戊" not in names


def test_chart_tooltips_show_under_the_csp(page, live_server, make_user, county):
    """ECharts' HTML tooltips put inline styles into the page, which the CSP refuses: ours draw on the canvas."""
    make_user("admin", role="county_admin", region_code=b.COUNTY)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/progress/?year=2025&on=2024-10-31")
    wait_for_charts(page, "units", "history", "special")
    for name in ("history", "units"):
        page.locator(f"#chart-{name}").scroll_into_view_if_needed()
        page.evaluate(f"() => window.progressCharts.{name}.dispatchAction({{type: 'showTip', seriesIndex: 0, dataIndex: 1}})")
        page.wait_for_timeout(300)
    # a CSP violation (an inline style applied) fails the test through the page fixture (conftest.py)


def test_phone_dashboard_sorted_coloured_dash_for_no_target_and_furthest_behind(page, live_server, make_user, county):
    """390×844: the custom chart bundle loads without console errors; bars by rate, coloured against pace;
    0 of 0 reads "—"; the villages furthest behind lead to their 催缴 list; nothing scrolls sideways."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    make_user("admin", role="county_admin", region_code=b.COUNTY)
    login(page, live_server, "admin")
    loaded = []
    page.on("response", lambda r: loaded.append(r.url) if "echarts" in r.url else None)
    page.goto(f"{live_server.url}/progress/?region={b.LONGKANG}&year=2025&on=2024-10-31")
    wait_for_charts(page, "units", "history", "special")
    assert [u.split("/")[-1] for u in loaded] == ["echarts.custom.min.js"]
    assert option(page, "units", "yAxis[0].data") == ["南村", "北村"]
    bars = option(page, "units", "series[0].data")
    assert [b_["itemStyle"]["color"] for b_ in bars] == ["#b42318", "#98a2b3"]  # red below pace, grey without target
    assert option(page, "units", "yAxis[0].axisLabel.interval") == 0
    days = len(option(page, "history", "xAxis[0].data"))
    assert days / (option(page, "history", "xAxis[0].axisLabel.interval") + 1) <= 6  # a handful of dates on a phone
    assert page.locator(f"tr[data-code='{b.BEICUN}'] .bar-cell").inner_text().strip() == "—"
    assert page.locator(f"tr[data-code='{b.BEICUN}'] progress").count() == 0
    assert page.locator("[data-field=special_rate]").inner_text() == "—"
    behind = page.locator("#furthest-behind li")
    assert behind.count() == 1 and "南村" in behind.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    behind.first.locator("a:has-text('催缴名单')").click()
    page.wait_for_url(lambda url: "/progress/remind/" in url and f"village={b.NANCUN}" in url)
    assert errors == []


def test_township_downloads_its_remind_workbook_on_a_phone(page, live_server, make_user, county):
    make_user("town", role="township_officer", region_code=b.LIUCHENG)
    login(page, live_server, "town")
    page.goto(f"{live_server.url}/progress/remind/?region={b.LIUCHENG}&year=2025")
    link = page.locator("a[data-role=remind-book]")
    assert "每村一个工作表" in link.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == f"榴城镇-{b.LIUCHENG}-催缴名单-2025.xlsx"

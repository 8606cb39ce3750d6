"""The walk (issue 12): every demo account, at 1366×900 and at 390×844, opens every page of its menu and
the pages one click from its home, and finds no console error, no page wider than the screen, no dead end
(no 4xx/5xx, and a way back to home and the menu on every page) and no English text.

The demo county is the one `yibao demo` builds, at the smallest size whose five department lists all
have rows (300 residents), so the walk stays near a minute a size.
"""

import re
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "yibao-demo"

# Latin words a Chinese user may read: file formats and units they meet on every 医保 form, and the demo's
# login names (the user types them to log in; 账号管理 lists them). Words with digits (ID numbers ending in X,
# receipt and 流水 numbers, region codes) are codes, not English, and are not checked at all; neither is text set
# as <code>, <kbd> or <samp>: what the user types (the policy vocabulary's keys, a command line).
# POS and APP are channel names as the tax bureau's 缴费渠道 list writes them (POS机, 手机APP); GBK is the
# encoding a Chinese CSV is saved in (beside UTF-8); yaml is the policy file's format.
ALLOWED_WORDS = {
    "xlsx", "xls", "csv", "pdf", "yaml", "id", "api", "excel", "pos", "app", "gbk",
    "yibao_admin", "shuiwu", "xiangzhen", "cunji", "minzheng", "shenji",
    "walk_city_admin", "walk_city_tax", "walk_province_viewer",
}
# A link one click from home that does not open a page: files, the API's own pages, signing out.
NOT_A_PAGE = re.compile(r"(export|download|\.xlsx|\.csv|\.pdf|/pdf|/api/|logout|/report)", re.I)

VISIBLE_TEXT_JS = """() => {
  const out = [];
  const seen = el => el && el.checkVisibility && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!node.textContent.trim() || !parent || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(parent.tagName)) continue;
    // what the user types (policy keys, commands), and the policy vocabulary, a reference of those keys by design
    if (parent.closest('code, kbd, samp, .codebook')) continue;
    if (parent.tagName === 'OPTION' ? seen(parent.closest('select')) : seen(parent)) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], [title], input[type=submit][value], input[type=button][value]')) {
    if (!seen(el)) continue;
    for (const name of ['placeholder', 'title', 'value']) {
      if (el.hasAttribute(name) && (name !== 'value' || el.type === 'submit' || el.type === 'button')) out.push(el.getAttribute(name));
    }
  }
  return out;
}"""

FILE_TYPES = {"xlsx", "xls", "csv", "pdf", "yaml"}  # a file name of these types (x.cases.yaml) is a name, not English
WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-@]*")


def english_words(texts: list[str]) -> set[str]:
    words = set()
    for text in texts:
        for word in WORD.findall(text):
            word = word.strip(".-")
            if re.search(r"\d", word) or len(word) < 2 or not re.search(r"[A-Za-z]{2}", word):
                continue
            if word.lower() not in ALLOWED_WORDS and word.rsplit(".", 1)[-1].lower() not in FILE_TYPES:
                words.add(word)
    return words


def test_english_words_finds_english_and_spares_codes():
    assert english_words(["缴费 None 元", "Next page", "状态：True"]) == {"None", "Next", "page", "True"}
    assert english_words(["34032119800101123X", "下载 xlsx", "SJ2025000012", "PDF 回执", "cunji", "GBK 编码"]) == set()
    assert english_words(["{'status': 'paid'}", "docs/imports.md", "<编号>.cases.yaml"]) == {"status", "paid", "docs", "imports.md"}


@pytest.fixture
def demo_county():
    from yibao.demo.build import demo_build
    from yibao.demo.year import demo_year

    demo_build(residents=300, seed=5)
    demo_year(seed=5)  # also makes the six demo logins
    from yibao.accounts.models import User

    _above_county_logins()
    return list(User.objects.order_by("pk").values_list("username", flat=True))


def _above_county_logins() -> None:
    """The three roles above the county (issue 14) over the demo county: its city and province."""
    from yibao.accounts.models import User
    from yibao.demo.county import COUNTY_CODE
    from yibao.regions.models import Region
    from yibao.regions.services import region_upsert_many

    missing = [(code, name) for code, name in ((COUNTY_CODE[:2], "演示省"), (COUNTY_CODE[:4], "演示市"))
               if not Region.objects.filter(code=code).exists()]
    if missing:
        region_upsert_many(rows=missing, actor="测试")
    for username, role, code in (("city_admin", "city_admin", COUNTY_CODE[:4]), ("city_tax", "city_tax", COUNTY_CODE[:4]),
                                 ("province_viewer", "province_viewer", COUNTY_CODE[:2])):
        if not User.objects.filter(role=role).exists():
            User.objects.create_user(username=f"walk_{username}", password=PASSWORD, role=role, region_code=code)


def _check_page(page, url: str, size: str, problems: list[str], errors: list[str]) -> None:
    try:
        response = page.goto(url, wait_until="load")
    except Exception as exc:  # a download, a page that never loads
        problems.append(f"{url}：打不开（{str(exc).splitlines()[0]}）")
        return
    status = response.status if response else 0
    if status >= 400:
        problems.append(f"{url}：HTTP {status}")
        return
    # what loads after the page (htmx parts, a chart's data) has finished before the page is judged
    if page.locator("[hx-trigger*=load], [data-chart], script[src*=echarts]").count():
        page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    where = page.url
    if errors:
        problems.append(f"{where}：控制台错误 {errors[:3]}")
        errors.clear()
    wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1] + 1:
        problems.append(f"{where}：页面宽 {wide[0]}px，超出屏幕 {wide[1]}px")
    menu = ".sidenav" if size == "desktop" else ".menu summary"
    if not (page.locator("a.brand").is_visible() and page.locator(menu).is_visible()):
        problems.append(f"{where}：没有回首页或菜单的入口")
    words = english_words(page.evaluate(VISIBLE_TEXT_JS))
    if words:
        problems.append(f"{where}：页面上有英文 {sorted(words)}")


@pytest.mark.parametrize("size", list(SIZES))
def test_walk_every_menu_page_as_every_demo_account(browser, live_server, demo_county, size):
    assert len(demo_county) >= 9  # six county-level demo logins and three above the county
    problems: list[str] = []
    kinds: set[str] = set()  # a page one click away is walked once a size, by the first account that reaches it
    for username in demo_county:
        context = browser.new_context(locale="zh-CN", viewport=SIZES[size])
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => console.error("
            "'Content Security Policy violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("console", lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        before = len(problems)
        _check_page(page, f"{live_server.url}/", size, problems, errors)
        home_links = page.evaluate("() => [...document.querySelectorAll('main a[href]')].map(a => a.href)")
        menu = page.evaluate("() => [...document.querySelectorAll('.sidenav a[href]')].map(a => a.href)")
        assert menu, f"{username} 没有菜单"
        if size == "phone":  # the phone menu opens, fits the screen and holds the same items
            page.click(".menu summary")
            assert page.locator(".menu nav").is_visible()
            box = page.locator(".menu nav").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"], box
            phone_menu = page.evaluate("() => [...document.querySelectorAll('.menu nav a[href]')].map(a => a.href)")
            assert phone_menu == menu
            headings = page.locator(".menu nav .nav-heading").count()
            assert (headings >= 2) == (len(menu) >= 8), (username, headings, len(menu))
        seen = {f"{live_server.url}/"}
        extra: list[str] = []
        for url in menu:
            seen.add(url)
            _check_page(page, url, size, problems, errors)
            # the first row of a list leads to a detail page (a person, a payment, a run): one of each kind
            # and its buttons lead to forms (新建、导入、申请): each kind of page once
            rows = page.evaluate("() => [...document.querySelectorAll('main table a[href], main .cards a[href]')]"
                                 ".map(a => a.href)")
            buttons = page.evaluate("() => [...document.querySelectorAll('main a.button[href]')].map(a => a.href)")
            extra += [r for r in rows[:1] + buttons if not NOT_A_PAGE.search(r)]
        for url in home_links + extra:
            url = url.split("#")[0]
            kind = re.sub(r"\d+", "N", urlsplit(url).path)
            if urlsplit(url).netloc != urlsplit(live_server.url).netloc or NOT_A_PAGE.search(url) or url in seen \
                    or kind in kinds:
                continue
            seen.add(url)
            kinds.add(kind)
            _check_page(page, url, size, problems, errors)
        problems[before:] = [f"[{username} {size}] {p}" for p in problems[before:]]
        context.close()
    assert not problems, "走查发现问题：\n" + "\n".join(problems)

"""Smoke test of the production stack through HTTP (`.ci/run` starts `make serve`'s stack first).

    python tests/smoke/prod_smoke.py --url http://127.0.0.1:PORT --username cunji --password yibao-demo

It speaks to gunicorn as nginx does, with X-Forwarded-Proto: https, so the production security
(Secure cookies, HSTS, CSRF origin checks) is what it meets. Steps: log in; quote; take a counter
payment and download its receipt PDF; fetch a static file and check its cache headers; check the
security headers; call /healthz. Prints one line per step; exits 1 at the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# /healthz comes with the health check (yibao/core/health.py). A 404 is accepted only while the
# repository has none; --require-healthz insists.
HEALTHZ_MAY_BE_MISSING = not (ROOT / "yibao" / "core" / "health.py").exists()
HEALTHZ_WAIT_SECONDS = 30  # the worker's first heartbeat may follow gunicorn's start by a few seconds

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"),
    "Permissions-Policy": ("camera=()", "geolocation=()"),
    "Strict-Transport-Security": ("max-age=",),
    "X-Content-Type-Options": ("nosniff",),
    "Referrer-Policy": ("same-origin",),
    "X-Frame-Options": ("DENY",),
}


class Failure(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Just enough of a browser: cookies (Secure ones too, since nginx's TLS is simulated), CSRF."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, method: str, path: str, *, data: bytes | None = None, headers: dict | None = None):
        url = self.base + path
        all_headers = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-CN"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            origin = "https://" + urllib.parse.urlsplit(self.base).netloc
            all_headers.update({"Origin": origin, "Referer": origin + path, "X-CSRFToken": self.cookies.get("csrftoken", "")})
        all_headers.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            response = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as exc:
            response = exc
        body = response.read()
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, body

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post_form(self, path: str, fields: dict):
        return self.request("POST", path, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload: dict):
        return self.request("POST", path, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def step_login(b: Browser, username: str, password: str) -> None:
    status, headers, body = b.get("/accounts/login/")
    check(status == 200, f"登录页应答 {status}")
    check("csrftoken" in b.cookies, "登录页没有设置 csrftoken")
    check("Secure" in (headers.get("Set-Cookie") or ""), "HTTPS 下 CSRF cookie 没有 Secure 标记")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    check(token is not None, "登录页没有 CSRF 表单字段")
    status, headers, _ = b.post_form("/accounts/login/", {
        "username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()})
    check(status == 302, f"登录应答 {status}（应为 302 跳转）")
    cookie = " ".join(headers.get_all("Set-Cookie") or [])
    check("sessionid" in b.cookies and "Secure" in cookie and "HttpOnly" in cookie, "会话 cookie 缺失或没有 Secure/HttpOnly")
    status, _, _ = b.get("/")
    check(status == 200, f"登录后首页应答 {status}")


def step_quote(b: Browser) -> None:
    status, _, body = b.get("/api/policies")
    check(status == 200, f"GET /api/policies 应答 {status}")
    policy = json.loads(body)[0]["id"]
    status, _, body = b.post_json("/api/quote", {"policy": policy, "birth_date": "1980-05-01", "paid_on": "2025-01-10"})
    check(status == 200, f"POST /api/quote 应答 {status}：{body[:300]!r}")
    answer = json.loads(body)
    check("payable" in answer and answer.get("explanation"), f"测算结果不完整：{answer}")


def step_counter_payment(b: Browser) -> None:
    status, _, body = b.get("/api/residents?page_size=200")
    check(status == 200, f"GET /api/residents 应答 {status}")
    for item in json.loads(body)["items"]:
        status, _, body = b.get(f"/api/collection/residents/{item['id']}/dues")
        if status != 200:
            continue
        dues = json.loads(body)
        payable = [m for m in dues["members"] if m["can_pay"]]
        if payable:
            break
    else:
        raise Failure("演示数据里找不到可收款的人")
    member = payable[0]
    status, _, body = b.post_json("/api/collection/counter-payments",
                                  {"resident_ids": [member["resident_id"]], "channel": "cash"})
    check(status == 201, f"窗口收款应答 {status}：{body[:300]!r}")
    paid = json.loads(body)
    check(paid["booked"] == 1 and paid["receipt_no"], f"收款结果不对：{paid}")
    status, headers, pdf = b.get(f"/api/collection/receipts/{paid['receipt_id']}/pdf")
    check(status == 200 and pdf.startswith(b"%PDF"), f"票据 PDF 应答 {status}，{pdf[:8]!r}")
    check(headers.get("Content-Type", "").startswith("application/pdf"), f"票据类型 {headers.get('Content-Type')}")


def step_static(b: Browser) -> None:
    _, _, page = b.get("/accounts/login/")
    found = re.search(rb'href="(/static/yibao/app\.[0-9a-f]{12}\.css)"', page)
    check(found is not None, "页面没有引用带哈希的 app.css（CompressedManifestStaticFilesStorage 未生效）")
    path = found.group(1).decode()
    status, headers, body = b.get(path, headers={"Accept-Encoding": "gzip"})
    check(status == 200 and body, f"静态文件 {path} 应答 {status}")
    cache = headers.get("Cache-Control", "")
    max_age = re.search(r"max-age=(\d+)", cache)
    check(max_age is not None and int(max_age.group(1)) >= 365 * 24 * 3600 and "immutable" in cache,
          f"静态文件缓存头不对：{cache!r}")
    check(headers.get("Content-Encoding") == "gzip", f"静态文件没有压缩：{headers.get('Content-Encoding')!r}")


def step_security_headers(b: Browser) -> None:
    for path in ("/accounts/login/", "/", "/api/policies"):
        status, headers, _ = b.get(path)
        for name, fragments in SECURITY_HEADERS.items():
            value = headers.get(name) or ""
            for fragment in fragments:
                check(fragment in value, f"{path} 的 {name} 缺少 {fragment!r}（实为 {value!r}）")
        csp = headers.get("Content-Security-Policy")
        check("unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{path} 的 CSP 不严格：{csp}")
    status, _, body = b.get("/no-such-page-for-smoke/")
    check(status == 404 and b"urlpatterns" not in body and b"URLconf" not in body, "404 页面列出了 URL 配置")
    anonymous = Browser(b.base)
    status, _, _ = anonymous.get("/api/docs")
    check(status in (301, 302), f"未登录访问 /api/docs 应跳转登录，实为 {status}")
    status, _, _ = b.get("/api/docs")
    check(status == 200, f"登录后 /api/docs 应答 {status}")


def step_healthz(b: Browser, require: bool) -> None:
    deadline = time.monotonic() + HEALTHZ_WAIT_SECONDS
    while True:
        status, headers, body = b.get("/healthz")
        if status == 404 and not require:
            print("  （本版本还没有 /healthz，暂且接受 404）")
            return
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(1)
    check(status == 200, f"/healthz 应答 {status}：{body[:300]!r}")
    check(headers.get("Content-Type", "").startswith("application/json"), "/healthz 不是 JSON")
    check(json.loads(body).get("status") == "ok", f"/healthz 正文：{body[:300]!r}")


def wait_until_up(base: str, seconds: float, server_pid: int | None = None) -> None:
    deadline = time.monotonic() + seconds
    opener = urllib.request.build_opener(NoRedirect)
    while True:
        if server_pid is not None and not _alive(server_pid):
            raise Failure("生产环境没有启动（进程已退出），见下面的日志")
        try:
            opener.open(base + "/accounts/login/", timeout=5)
            return
        except urllib.error.HTTPError:
            return  # answering at all is enough (e.g. the HTTPS redirect)
        except OSError:
            if time.monotonic() > deadline:
                raise Failure(f"{base} 在 {seconds:.0f} 秒内没有应答")
            time.sleep(0.5)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生产方式冒烟测试")
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", default="cunji")
    parser.add_argument("--password", default="yibao-demo")
    parser.add_argument("--wait", type=float, default=90, help="等待服务应答的秒数")
    parser.add_argument("--require-healthz", action="store_true")
    parser.add_argument("--server-pid", type=int, help="服务进程号：它退出了就不再等待")
    args = parser.parse_args(argv)
    steps = [
        ("登录", lambda b: step_login(b, args.username, args.password)),
        ("缴费测算 POST /api/quote", step_quote),
        ("窗口收款并下载票据 PDF", step_counter_payment),
        ("静态文件与缓存头", step_static),
        ("安全响应头、404、接口文档需登录", step_security_headers),
        ("/healthz", lambda b: step_healthz(b, args.require_healthz or not HEALTHZ_MAY_BE_MISSING)),
    ]
    passed = 0
    try:
        wait_until_up(args.url.rstrip("/"), args.wait, args.server_pid)
        browser = Browser(args.url)
        for title, step in steps:
            started = time.monotonic()
            step(browser)
            passed += 1
            print(f"ok   {title}（{(time.monotonic() - started) * 1000:.0f} ms）", flush=True)
    except Failure as exc:
        print(f"FAIL {steps[passed][0] if passed < len(steps) else '启动'}：{exc}", flush=True)
        print(f"smoke: {passed} passed, 1 failed")
        return 1
    print(f"smoke: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

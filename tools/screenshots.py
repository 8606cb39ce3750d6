"""The screenshots in docs/img: a fresh demo county in a temporary folder, served by the development server,
photographed in Debian's chromium at phone size (390×844).

    .venv/bin/python tools/screenshots.py [--residents 300] [--out docs/img]

Pages: the village collector's home, the person page, and the 收款 confirmation sheet.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "yibao-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(folder: Path) -> dict:
    env = dict(os.environ, DEBUG="1", YIBAO_VAR_DIR=str(folder / "var"), DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _run(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def shoot(out: Path, residents: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _env(folder)
        _run(["manage.py", "migrate", "--noinput"], env)
        _run(["-m", "yibao.cli", "demo", "--residents", str(residents)], env)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            made = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
                page = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                           device_scale_factor=1).new_page()
                _login(page, base, "cunji")
                page.goto(f"{base}/")
                made.append(out / "collector-home-phone.png")
                page.screenshot(path=made[-1], full_page=True)
                # a person with a household and payments: the first payment on the collector's list
                page.goto(f"{base}/collection/payments/")
                payment = page.locator("main a[href*='/collection/payments/']").first
                page.goto(base + payment.get_attribute("href"))
                person = page.locator("main a[href*='/registry/residents/']").first
                page.goto(base + person.get_attribute("href"))
                made.append(out / "person-page-phone.png")
                page.screenshot(path=made[-1], full_page=True)
                browser.close()
            return made
        finally:
            server.terminate()
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="文档截图：演示县，手机尺寸")
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args()
    for path in shoot(Path(args.out), args.residents):
        print(path)


if __name__ == "__main__":
    main()

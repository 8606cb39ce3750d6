"""The simulated users of the load benchmark (bench/load.py runs locust headless on this file).

    QuoteUser       POST /api/quote, no login (the open quote), at a fixed rate per user
    CollectorUser   a village collector: logs in once, then books counter payments for the households
                    of their village one after another, each with its receipt PDF, without pause
    ProgressUser    a county administrator: logs in once, then opens the progress page and the home page
                    (the home cards) in turn, without pause

The plan (accounts, households) is a JSON file named by $BENCH_LOAD_PLAN, written by bench/load.py
when it builds the county; $BENCH_LOAD_PART picks the households kept for this server, so the
production stack and runserver each book their own. The request names are what the report reads:
quote, booking, receipt_pdf, progress, home (login is counted apart).

Locust monkey-patches the standard library with gevent: this file is only ever run by locust, in its
own process, never imported by the benchmark driver or Django.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
from pathlib import Path

import gevent
from locust import FastHttpUser, HttpUser, constant, constant_throughput, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8")) if os.environ.get("BENCH_LOAD_PLAN") else {}
PART = os.environ.get("BENCH_LOAD_PART", "production")
QUOTE_RATE_PER_USER = float(os.environ.get("BENCH_QUOTE_RATE_PER_USER", "4"))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

USERS = int(os.environ.get("BENCH_LOAD_USERS", "1"))
WARMUP = float(os.environ.get("BENCH_LOAD_WARMUP", "2"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))

_collectors = itertools.count()
_admins = itertools.count()
_ready = {"count": 0, "login_failures": []}


# The measured window: once every simulated user has logged in (password hashing under 16 or 20
# simultaneous logins takes seconds on a small machine, and is not what the cases measure), a short
# warm-up (each server process loads its code on its first requests), then the statistics are reset
# and the load runs for BENCH_LOAD_SECONDS; then locust stops as its own --run-time limit would.
def ready(environment) -> None:
    _ready["count"] += 1
    if _ready["count"] == USERS:
        gevent.spawn(_measure, environment)


def _measure(environment) -> None:
    gevent.sleep(WARMUP)
    environment.runner.stats.reset_all()
    for message in _ready["login_failures"]:  # kept across the reset: a failed login is an error of the run
        environment.events.request.fire(request_type="POST", name="login", response_time=0, response_length=0,
                                        exception=Exception(message), context={}, response=None)
    gevent.sleep(SECONDS)
    environment.runner.quit()


def login(user: HttpUser, username: str, password: str) -> bool:
    """Once per simulated user, right the first time (the lockout is on)."""
    page = user.client.get("/accounts/login/", name="login")
    found = TOKEN.search(page.text or "")
    if found:
        with user.client.post("/accounts/login/", data={"username": username, "password": password,
                                                        "csrfmiddlewaretoken": found.group(1)},
                              headers={"Referer": user.host + "/accounts/login/"}, name="login",
                              allow_redirects=False, catch_response=True) as answer:
            if answer.status_code == 302:
                return True
            answer.failure(f"登录失败 {username}：{answer.status_code}")
    _ready["login_failures"].append(f"登录失败 {username}")
    return False


class QuoteUser(FastHttpUser):
    wait_time = constant_throughput(QUOTE_RATE_PER_USER)
    _births = tuple(dt.date(1940, 1, 1) + dt.timedelta(days=173 * i) for i in range(180))  # 1940 … 2025

    def on_start(self):
        self.n = 0
        ready(self.environment)

    @task
    def quote(self):
        self.n += 1
        birth = self._births[self.n % len(self._births)]
        payload = {"policy": "anhui-huaiyuan-2025", "birth_date": birth.isoformat(), "paid_on": "2024-11-15",
                   "identities": ["dibao"] if self.n % 7 == 0 else []}
        with self.client.post("/api/quote", json=payload, name="quote", catch_response=True) as answer:
            if answer.status_code != 200 or "payable" not in (answer.text or ""):
                answer.failure(f"测算 {answer.status_code}")


class CollectorUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        accounts = PLAN["collectors"]
        index = next(_collectors)
        account = accounts[index] if index < len(accounts) else None
        ok = account is not None and login(self, account["username"], PLAN["password"])
        ready(self.environment)
        if not ok:
            raise StopUser()
        self.households = list(account["households"][PART])

    @task
    def pay(self):
        if not self.households:  # every household of the village has paid
            raise StopUser()
        household = self.households.pop(0)
        csrf = self.client.cookies.get("csrftoken", "")
        headers = {"X-CSRFToken": csrf, "Referer": self.host + "/collection/"}
        body = {"resident_ids": household["residents"], "household_id": household["id"], "channel": "cash"}
        with self.client.post("/api/collection/counter-payments", json=body, headers=headers, name="booking",
                              catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"收款 {answer.status_code}：{(answer.text or '')[:200]}")
                return
            receipt = answer.json()["receipt_id"]
        with self.client.get(f"/api/collection/receipts/{receipt}/pdf", name="receipt_pdf",
                             catch_response=True) as pdf:
            if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
                pdf.failure(f"票据 PDF {pdf.status_code}")


class ProgressUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        accounts = PLAN["admins"]
        index = next(_admins)
        ok = index < len(accounts) and login(self, accounts[index], PLAN["password"])
        ready(self.environment)
        if not ok:
            raise StopUser()

    @task
    def progress_then_home(self):
        """Both pages in turn (the same mix as two tasks of equal weight, and a short run always has both)."""
        self.progress()
        self.home()

    def progress(self):
        with self.client.get("/progress/", name="progress", catch_response=True) as answer:
            if answer.status_code != 200 or "进度" not in (answer.text or ""):
                answer.failure(f"进度页 {answer.status_code}")

    def home(self):
        with self.client.get("/", name="home", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"首页 {answer.status_code}")

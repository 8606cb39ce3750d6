"""Every page, with bad query parameters and bad form fields, answers without a server error.

The URL list comes from the URLconf (everything but /api/, which schemathesis covers). Path
parameters take an existing-looking value and a 2**70 id; the query string and form carry the values
that once crashed pages: year=99999, on=0, household=abc, payment=abc, amount=1e400, id=2**70.
"""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from yibao.accounts.roles import Role

HUGE = str(2**70)
BAD_VALUES = [
    {"year": "99999"}, {"on": "0"}, {"household": "abc"}, {"payment": "abc"}, {"amount": "1e400"},
    {"id": HUGE}, {"job": HUGE}, {"ids": HUGE, "action": "approve"}, {"residents": HUGE, "household": HUGE},
    {"benefit_year": "99999", "region": "x" * 300, "q": "\u202e" + "名" * 300, "page": HUGE},
]


def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p


def _fill(route: str, big: bool) -> str:
    import re

    def one(m):
        conv = m.group(1) or "str"
        if conv == "int":
            return HUGE if big else "1"
        if conv == "path":
            return "x/y"
        return "x"

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", one, route).lstrip("^").rstrip("$")


def page_urls() -> list[str]:
    urls = []
    for route, _ in _walk(get_resolver().url_patterns):
        if route.startswith("api/") or "static" in route or route == "healthz":  # 503 is its answer without a worker
            continue
        urls.append(_fill(route, big=False))
        if "<int:" in route:
            urls.append(_fill(route, big=True))
    return sorted(set(urls))


URLS = page_urls()


def test_url_list_covers_the_pages():
    assert len(URLS) > 60
    assert "/progress/" in URLS and "/collection/counter/pay/" in URLS


@pytest.mark.parametrize("role", [str(Role.COUNTY_ADMIN), str(Role.VILLAGE_COLLECTOR)])
@pytest.mark.parametrize("url", URLS)
def test_page_with_bad_parameters_is_not_a_server_error(world, db, role, url):
    client = Client(raise_request_exception=False)
    client.force_login(world.users[role])
    failures = []
    for params in BAD_VALUES:
        for method in ("get", "post"):
            with transaction.atomic():
                response = getattr(client, method)(url, params)
                transaction.set_rollback(True)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} {params}: HTTP {response.status_code}")
    assert not failures, "\n".join(failures)

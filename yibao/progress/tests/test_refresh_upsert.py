"""The progress refresh writes its rows as an upsert: refreshes at once never hit the unique keys
(one_progress_row_per_village_year, one_day_row_per_area_year), and the rollup ends up right."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from yibao.progress import services
from yibao.progress.services import refresh
from yibao.progress.models import AreaDay, VillageDay, VillageProgress
from yibao.progress.tests import builders as b

KEYS = {"VillageProgress": ("village_code", "benefit_year"), "VillageDay": ("village_code", "benefit_year", "day"),
        "AreaDay": ("region_code", "benefit_year", "day"), "DaySnapshot": ("region_code", "benefit_year", "day")}


def _rollup() -> dict:
    return {
        "progress": sorted(VillageProgress.objects.filter(benefit_year=2025).values_list(
            "village_code", "paid", "enrolled", "registered", "special_people", "special_enrolled", "last_year",
            "renewed")),
        "days": sorted(VillageDay.objects.filter(benefit_year=2025).values_list("village_code", "day", "paid", "exempt",
                                                                                 "amount")),
        "areas": sorted(AreaDay.objects.filter(benefit_year=2025).values_list("region_code", "day", "paid", "exempt",
                                                                              "amount")),
    }


@pytest.fixture(params=[1000, 1], ids=["rows", "staged"])
def batch(request, monkeypatch):
    """As written (a few rows a statement), and with batches of one row (on PostgreSQL: the COPY and staging
    table path that a whole county takes)."""
    monkeypatch.setattr(refresh, "UPSERT_BATCH", request.param)
    return request.param


def test_refreshing_twice_gives_the_same_rows_and_drops_rows_the_count_no_longer_has(county, batch):
    first = _rollup()
    assert first["progress"] and first["days"] and first["areas"]
    VillageDay.objects.create(county_code=b.COUNTY, township_code=b.LIUCHENG, village_code=b.DONGCUN, benefit_year=2025,
                              day=dt.date(2024, 12, 1), paid=9, amount=Decimal("3600.00"))  # no payment that day
    AreaDay.objects.create(county_code=b.COUNTY, region_code=b.LIUCHENG, benefit_year=2025, day=dt.date(2024, 12, 1),
                           paid=9, amount=Decimal("3600.00"))
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    assert _rollup() == first
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN])
    assert _rollup() == first


@pytest.mark.parametrize("villages", [None, [b.DONGCUN]], ids=["county", "village"])
def test_a_row_written_by_another_refresh_between_the_count_and_the_write_is_updated_not_a_unique_error(
    county, monkeypatch, villages, batch
):
    """Deterministic on SQLite: just before the refresh writes each table, another refresh's row for the same
    key appears (with stale figures). The write brings it up to date."""
    right = _rollup()
    original = refresh._insert_rows
    planted = []

    def another_refresh_first(model, columns, rows):
        if rows:
            values = dict(zip(columns, rows[0]))
            key = {c: values[c] for c in KEYS[model.__name__]}
            stale = {c: 0 for c in ("paid", "enrolled", "registered") if c in values}
            model.objects.update_or_create(**key, defaults={**{c: values[c] for c in columns if c not in key}, **stale})
            planted.append(model.__name__)
        return original(model, columns, rows)

    monkeypatch.setattr(refresh, "_insert_rows", another_refresh_first)
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=villages)
    assert {"VillageProgress", "VillageDay", "AreaDay", "DaySnapshot"} <= set(planted)
    assert _rollup() == right


# ---- PostgreSQL: refreshes in threads at once ---------------------------------------------------


def _race(jobs):
    barrier = threading.Barrier(len(jobs))
    errors = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            job()
        except Exception as exc:
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_refreshes_at_once_after_concurrent_payments_keep_the_rollup_right(batch):
    if connection.vendor != "postgresql":
        pytest.skip("并发测试需要 PostgreSQL")
    b.huaiyuan_tree()
    b.campaign(2025)
    people = [b.person(village, f"人{i}") for i, village in enumerate([b.DONGCUN, b.XICUN, b.NANCUN, b.BEICUN] * 2)]
    for round_ in range(4):  # each round: more payments, then refreshes of overlapping villages all at once
        for person in people[round_ * 2: round_ * 2 + 2]:
            b.pay(person, dt.date(2024, 9, 2 + round_))
        jobs = [
            lambda: services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN]),
            lambda: services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN]),
            lambda: services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.XICUN]),
            lambda: services.progress_refresh(county_code=b.COUNTY, benefit_year=2025,
                                              village_codes=[b.NANCUN, b.BEICUN]),
            lambda: services.progress_refresh(county_code=b.COUNTY, benefit_year=2025),
        ]
        errors = _race(jobs)
        assert errors == [None] * len(jobs), errors
        raced = _rollup()
        services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)  # one refresh alone
        assert raced == _rollup()
        paid = dict(VillageProgress.objects.filter(benefit_year=2025).values_list("village_code", "paid"))
        assert sum(paid.values()) == 2 * (round_ + 1)

"""Two collectors at the same moment: exactly one payment, gapless receipt numbers (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection, connections

from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt, ReceiptLine, ReceiptSeries
from yibao.collection.tests import factories as f
from yibao.enrollment.models import Enrollment, EnrollmentClaim

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("并发测试需要 PostgreSQL 的行锁")


def race(jobs):
    """Run each job in its own thread (own connection), all released at once; returns (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # the loser's error is what the test inspects
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_two_collectors_paying_for_the_same_person_book_exactly_one_payment():
    f.campaign()
    person = f.person(name="孙并发")
    pay = lambda who: lambda: s.payment_collect(  # noqa: E731
        residents=[person], channel="cash", actor=who, paid_at=f.at("2024-10-08")
    )
    for _round in range(3):  # several rounds: the interleaving differs each time
        ReceiptLine.objects.all().delete()
        Receipt.objects.all().delete()
        Payment.objects.all().delete()
        ReceiptSeries.objects.all().delete()
        EnrollmentClaim.objects.all().delete()
        Enrollment.objects.all().delete()
        results, errors = race([pay("甲收款员"), pay("乙收款员")])
        winners = [r for r in results if r is not None]
        losers = [e for e in errors if e is not None]
        assert len(winners) == 1 and len(losers) == 1, errors
        assert isinstance(losers[0], s.PaymentError), repr(losers[0])
        assert "孙并发" in str(losers[0]) and "不能重复收款" in str(losers[0])
        assert Payment.objects.filter(resident=person, status="booked").count() == 1
        assert Receipt.objects.count() == 1 and Receipt.objects.get().number == 1
        assert ReceiptSeries.objects.get().next_number == 2
        assert Enrollment.objects.filter(resident=person).count() == 1
        assert EnrollmentClaim.objects.filter(id_number=person.id_number).count() == 1


def test_receipt_numbers_under_concurrency_have_no_gaps_and_no_duplicates():
    f.campaign()
    people = [f.person(name=f"并发{i}") for i in range(8)]
    jobs = [
        (lambda p: lambda: s.payment_collect(residents=[p], channel="pos", actor="测试", paid_at=f.at("2024-10-08")))(p)
        for p in people
    ]
    results, errors = race(jobs)
    assert errors == [None] * 8
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 9))
    assert len(set(Receipt.objects.values_list("receipt_no", flat=True))) == 8
    assert ReceiptSeries.objects.get().next_number == 9


def test_the_series_is_created_once_when_two_first_payments_race():
    f.campaign()
    a, b = f.person(name="首甲"), f.person(name="首乙")
    assert not ReceiptSeries.objects.exists()
    results, errors = race([
        lambda: s.payment_collect(residents=[a], channel="cash", actor="甲", paid_at=f.at("2024-10-08")),
        lambda: s.payment_collect(residents=[b], channel="cash", actor="乙", paid_at=f.at("2024-10-08")),
    ])
    assert errors == [None, None]
    assert ReceiptSeries.objects.count() == 1 and ReceiptSeries.objects.get().next_number == 3
    assert sorted(Receipt.objects.values_list("number", flat=True)) == [1, 2]

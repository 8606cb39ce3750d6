"""ids_reserve: primary keys taken before rows are copied in with them."""

import pytest
from django.db import connection, transaction

from yibao.core.models import Event
from yibao.core.staging import copy_rows, ids_reserve

pytestmark = pytest.mark.django_db(transaction=True)

T = Event._meta.db_table


def _event(**kw):
    return Event.objects.create(county_code="421223", entity="payment", entity_id="1", action="booked", **kw)


def test_reserved_ids_follow_every_id_given_and_are_not_given_again():
    with transaction.atomic():
        last = _event().pk
        ids = ids_reserve(T, 3).to_list()
        assert len(set(ids)) == 3 and min(ids) > last
        after = _event().pk  # an ordinary insert after the reservation takes none of them
        assert after not in ids


def test_a_deleted_last_id_is_not_reserved_again():
    """SQLite's AUTOINCREMENT never gives a deleted id again; neither does the reservation."""
    with transaction.atomic():
        gone = _event().pk
        Event.objects.filter(pk=gone).delete()
        assert ids_reserve(T, 1).to_list()[0] > gone


def test_rows_copied_in_with_reserved_ids_keep_them():
    import polars as pl
    from django.utils import timezone

    with transaction.atomic():
        ids = ids_reserve(T, 2)
        frame = pl.DataFrame({"id": ids, "county_code": ["421223"] * 2, "entity": ["payment"] * 2,
                              "entity_id": ["7", "8"], "action": ["booked"] * 2, "actor_name": [""] * 2,
                              "reason": [""] * 2, "request_id": [""] * 2, "at": [timezone.now()] * 2})
        copy_rows(T, frame)
        assert dict(Event.objects.filter(pk__in=ids.to_list()).values_list("pk", "entity_id")) == dict(
            zip(ids.to_list(), ["7", "8"]))
        assert _event().pk > max(ids.to_list())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: PostgreSQL's sequence needs no lock")
def test_sqlite_refuses_to_reserve_outside_the_write_transaction():
    with pytest.raises(RuntimeError):
        ids_reserve(T, 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's sequence, drawn by another session")
def test_ids_drawn_by_another_session_meanwhile_are_not_reserved():
    """When another session draws from the sequence while ids are reserved, the reserved ids are the
    ones this session drew, not a range that would include the other's."""
    import threading

    stop = threading.Event()
    taken = []

    def other():
        from django.db import connections

        with connections["default"].cursor() as cursor:
            while not stop.is_set():
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [T])
                taken.append(cursor.fetchone()[0])
        connections["default"].close()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        with transaction.atomic():
            batches = [ids_reserve(T, 20_000).to_list() for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    mine = [i for batch in batches for i in batch]
    assert len(set(mine)) == len(mine) == 100_000
    assert not set(mine) & set(taken)

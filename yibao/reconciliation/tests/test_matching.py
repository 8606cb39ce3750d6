"""The matching rules over plain frames (no database)."""

import datetime as dt

import polars as pl

from yibao.reconciliation import matching
from yibao.reconciliation.taxfile import FRAME_SCHEMA

D = dt.date(2024, 10, 8)


def tax(*rows) -> pl.DataFrame:
    """rows: (tax_row, external_id, id_number, cents, paid_on)"""
    return pl.DataFrame(
        [{"tax_row": r[0], "external_id": r[1], "id_number": r[2], "name": None, "cents": r[3], "paid_on": r[4],
          "channel": "wechat", "channel_text": "微信", "ticket_no": None} for r in rows],
        schema=FRAME_SCHEMA,
    )


def booked(*rows) -> pl.DataFrame:
    """rows: (payment_id, external_id, id_number, cents, paid_on)"""
    return pl.DataFrame([dict(zip(matching.BOOKING_SCHEMA, r)) for r in rows], schema=matching.BOOKING_SCHEMA)


def kinds(df: pl.DataFrame) -> list[tuple]:
    return sorted(df.select("kind", "tax_row", "payment_id").iter_rows(), key=str)


def test_same_payment_id_and_amount_is_no_mismatch():
    found, stats = matching.match_tax(tax((2, "A1", "X", 40000, D)), booked((1, "A1", "X", 40000, D)))
    assert found.height == 0
    assert stats["matched_by_id"] == 1 and stats["matched_cents"] == 40000


def test_same_payment_id_different_amount_is_amount_differs():
    found, _ = matching.match_tax(tax((2, "A1", "X", 38000, D)), booked((1, "A1", "X", 40000, D)))
    assert kinds(found) == [("amount_differs", 2, 1)]
    row = found.row(0, named=True)
    assert (row["tax_cents"], row["yibao_cents"], row["reason"], row["key"]) == (38000, 40000, "same_id", "amount_differs:A1")


def test_same_payment_id_different_person_is_person_differs():
    found, _ = matching.match_tax(tax((2, "A1", "X", 40000, D)), booked((1, "A1", "Y", 40000, D)))
    assert kinds(found) == [("person_differs", 2, 1)]
    assert found.row(0, named=True)["other_id_number"] == "Y"


def test_without_shared_id_pairs_by_person_and_amount():
    # the counter payment carries Yibao's id, the tax record the bureau's own: they still pair
    found, stats = matching.match_tax(tax((2, "TAX9", "X", 40000, D)), booked((1, "CTR1", "X", 40000, D)))
    assert found.height == 0
    assert stats["matched_by_person_amount"] == 1 and stats["matched_by_id"] == 0


def test_missing_ids_on_both_sides_pair_by_person_and_amount():
    found, _ = matching.match_tax(tax((2, None, "X", 40000, D)), booked((1, "", "X", 40000, D)))
    assert found.height == 0


def test_person_pairing_is_one_to_one():
    # two tax records, one booking: one pairs, the other is paid but not booked
    found, _ = matching.match_tax(
        tax((2, None, "X", 40000, D), (3, None, "X", 40000, D + dt.timedelta(days=3))),
        booked((1, None, "X", 40000, D)),
    )
    assert kinds(found) == [("paid_not_booked", 3, None)]


def test_same_person_other_amount_without_id_is_amount_differs():
    found, _ = matching.match_tax(tax((2, None, "X", 38000, D)), booked((1, "CTR1", "X", 40000, D)))
    assert kinds(found) == [("amount_differs", 2, 1)]
    assert found.row(0, named=True)["reason"] == "same_person"


def test_exact_amount_wins_over_date_order():
    # the tax side has 380 then 400; Yibao has 400: the 400s pair, the 380 is left over
    found, _ = matching.match_tax(
        tax((2, None, "X", 38000, D), (3, None, "X", 40000, D + dt.timedelta(days=1))),
        booked((1, None, "X", 40000, D)),
    )
    assert kinds(found) == [("paid_not_booked", 2, None)]


def test_leftovers_are_paid_not_booked_and_booked_not_paid():
    found, _ = matching.match_tax(tax((2, "T1", "X", 40000, D)), booked((7, "B7", "Y", 40000, D)))
    assert kinds(found) == [("booked_not_paid", None, 7), ("paid_not_booked", 2, None)]
    keys = set(found["key"].to_list())
    assert keys == {"paid_not_booked:T1", "booked_not_paid:p7"}


def test_a_payment_id_match_is_not_reused_for_another_person():
    # A1 pairs by id; the second tax record for the same person/amount must not pair with the same booking
    found, _ = matching.match_tax(
        tax((2, "A1", "X", 40000, D), (3, None, "X", 40000, D)), booked((1, "A1", "X", 40000, D))
    )
    assert kinds(found) == [("paid_not_booked", 3, None)]


# ---------------------------------------------------------------- receipts


def receipts(*rows):
    """(receipt_id, total_cents)"""
    return pl.DataFrame([dict(zip(matching.RECEIPT_SCHEMA, r)) for r in rows], schema=matching.RECEIPT_SCHEMA)


def lines(*rows):
    """(receipt_id, payment_id, line_cents, pay_cents, pay_status)"""
    return pl.DataFrame(
        [dict(zip(matching.LINE_SCHEMA, (*r, "E", "X"))) for r in rows], schema=matching.LINE_SCHEMA
    )


def counter(*rows):
    """(payment_id, cents, status, receipt_id)"""
    return pl.DataFrame(
        [{"payment_id": r[0], "external_id": f"E{r[0]}", "id_number": "X", "cents": r[1], "paid_on": D,
          "channel": "cash", "status": r[2], "collector_key": "n李征收", "collector_name": "李征收",
          "township_code": "340321100", "village_code": "340321100001", "receipt_id": r[3]} for r in rows],
        schema=matching.COUNTER_SCHEMA,
    )


def reasons(df):
    return sorted(df.select("kind", "reason").iter_rows())


def test_receipt_matching_its_payments_is_fine():
    found, stats = matching.match_receipts(receipts((1, 80000)), lines((1, 1, 40000, 40000, "booked"), (1, 2, 40000, 40000, "booked")),
                                           counter((1, 40000, "booked", 1), (2, 40000, "booked", 1)))
    assert found.height == 0
    assert stats["receipted_cents"] == 80000


def test_receipt_without_lines_or_with_a_missing_payment():
    found, _ = matching.match_receipts(
        receipts((1, 40000), (2, 40000)), lines((2, 99, 40000, None, None)), counter()
    )
    assert reasons(found) == [("receipt_without_payment", "missing_payment"), ("receipt_without_payment", "no_lines")]


def test_receipt_of_a_refunded_payment_is_receipt_without_payment():
    found, _ = matching.match_receipts(receipts((1, 40000)), lines((1, 5, 40000, 40000, "refunded")),
                                       counter((5, 40000, "refunded", 1)))
    assert reasons(found) == [("receipt_without_payment", "refunded")]


def test_receipt_total_against_its_payments():
    over, _ = matching.match_receipts(receipts((1, 50000)), lines((1, 5, 40000, 40000, "booked")), counter((5, 40000, "booked", 1)))
    under, _ = matching.match_receipts(receipts((1, 30000)), lines((1, 5, 40000, 40000, "booked")), counter((5, 40000, "booked", 1)))
    assert reasons(over) == [("receipt_without_payment", "total_over")]
    assert reasons(under) == [("payment_without_receipt", "total_under")]
    assert under.row(0, named=True)["tax_cents"] == 30000 and under.row(0, named=True)["yibao_cents"] == 40000


def test_counter_payment_without_a_valid_receipt():
    found, _ = matching.match_receipts(receipts(), lines(), counter((5, 40000, "booked", None), (6, 40000, "refunded", None),
                                                                     (7, 40000, "flagged", None)))
    assert sorted(found["payment_id"].to_list()) == [5, 7]  # a refunded payment needs no receipt
    assert set(found["kind"]) == {"payment_without_receipt"}


# ---------------------------------------------------------------- cash


def cash(*rows):
    """(payment_id, cents, paid_on, collector)"""
    return pl.DataFrame(
        [{"payment_id": r[0], "cents": r[1], "paid_on": r[2], "collector_key": r[3], "collector_name": r[3][1:],
          "township_code": "340321100", "village_code": "340321100001"} for r in rows],
        schema=matching.CASH_SCHEMA,
    )


def handed(*rows):
    """(handover_id, collector, start, end, cents)"""
    return pl.DataFrame(
        [{"handover_id": r[0], "collector_key": r[1], "collector_name": r[1][1:], "period_start": r[2], "period_end": r[3],
          "cents": r[4], "township_code": "340321100", "village_code": "340321100001"} for r in rows],
        schema=matching.HANDOVER_SCHEMA,
    )


def day(n):
    return dt.date(2024, 10, n)


def test_cash_handed_in_full_is_fine():
    found, stats = matching.match_cash(cash((1, 40000, day(1), "n甲"), (2, 40000, day(2), "n甲")),
                                       handed((1, "n甲", day(1), day(2), 80000)), as_of=day(20), grace_days=1)
    assert found.height == 0
    assert stats["cash_collected_cents"] == stats["cash_handed_cents"] == 80000


def test_cash_short_and_over_per_period():
    found, _ = matching.match_cash(
        cash((1, 40000, day(1), "n甲"), (2, 40000, day(2), "n甲"), (3, 40000, day(5), "n乙")),
        handed((1, "n甲", day(1), day(2), 30000), (2, "n甲", day(1), day(2), 40000), (3, "n乙", day(5), day(6), 50000)),
        as_of=day(20), grace_days=1,
    )
    rows = {r["kind"]: r for r in found.iter_rows(named=True)}
    assert set(rows) == {"cash_short", "cash_over"}
    short = rows["cash_short"]  # two handovers of the same period add up: 700 of 800
    assert (short["collector_key"], short["yibao_cents"], short["tax_cents"]) == ("n甲", 80000, 70000)
    over = rows["cash_over"]
    assert (over["collector_key"], over["yibao_cents"], over["tax_cents"]) == ("n乙", 40000, 50000)


def test_cash_outside_any_period_is_overdue_after_the_grace_days():
    found, stats = matching.match_cash(
        cash((1, 40000, day(1), "n甲"), (2, 40000, day(3), "n甲"), (3, 40000, day(19), "n甲")),
        handed((1, "n甲", day(1), day(1), 40000)), as_of=day(20), grace_days=1,
    )
    assert found.height == 1
    row = found.row(0, named=True)
    assert (row["kind"], row["reason"], row["yibao_cents"]) == ("cash_short", "not_handed", 40000)
    assert (row["period_start"], row["period_end"]) == (day(3), day(3))
    assert stats["cash_pending_cents"] == 40000  # day 19 is still within a day's grace on day 20


def test_zero_yuan_cash_entries_owe_no_handover():
    # 特困 people are registered at the counter as paid 0.00 in cash: there is no money to hand over
    found, _ = matching.match_cash(cash((1, 0, day(1), "n甲"), (2, 0, day(2), "n甲"), (3, 40000, day(3), "n乙")),
                                   handed(), as_of=day(20), grace_days=1)
    assert found.select("kind", "collector_key", "yibao_cents").rows() == [("cash_short", "n乙", 40000)]


def test_collectors_are_kept_apart():
    # 乙's handover does not cover 甲's cash
    found, _ = matching.match_cash(cash((1, 40000, day(1), "n甲")), handed((1, "n乙", day(1), day(1), 40000)),
                                   as_of=day(20), grace_days=0)
    assert sorted(found.select("kind", "collector_key").iter_rows()) == [("cash_over", "n乙"), ("cash_short", "n甲")]

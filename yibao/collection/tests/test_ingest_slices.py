"""A channel file ingested a slice of lines at a time gives exactly what it gives in one piece."""

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import override_settings

from yibao.collection.ingest import payments_ingest, run
from yibao.collection.models import Payment, QuoteExplanation, SubsidyRefund
from yibao.collection.tests.test_ingest import county, line, the_file, write_csv  # noqa: F401  (fixture)
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment, EnrollmentClaim
from yibao.imports.reports import report_read

pytestmark = pytest.mark.django_db


def _file(tmp_path, p):
    """The file of test_ingest plus a payment id repeated with other content far from its first line."""
    path = the_file(tmp_path, p)
    text = path.read_text(encoding="utf-8") + line("T003", p["short"], "350") + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot(result) -> dict:
    """Everything the ingest wrote, keyed by what does not depend on the ids the database hands out."""
    ext = dict(Payment.objects.values_list("pk", "external_id"))
    by_enrollment = {p.enrollment_id: p.external_id for p in Payment.objects.filter(enrollment__isnull=False)}
    refunds = {str(r.pk): ext[r.payment_id] for r in SubsidyRefund.objects.all()}

    def entity(e):
        key = {"payment": lambda i: ext.get(int(i)), "enrollment": lambda i: by_enrollment.get(int(i)),
               "subsidy_refund": lambda i: refunds.get(i)}.get(e.entity, lambda i: i)(e.entity_id)
        after = dict(e.after or {})
        if "payment" in after:
            after["payment"] = ext.get(after["payment"])
        return (e.entity, key, e.action, json.dumps(e.before, sort_keys=True), json.dumps(after, sort_keys=True), e.reason)

    payments = {
        p.external_id: (p.status, p.flag, p.flag_advice, str(p.amount), str(p.expected_amount), p.benefit_start,
                        p.benefit_end, p.rule, p.explanation_key, p.enrollment_id is not None, str(p.refund_later),
                        p.resident_id, p.channel, p.ticket_no)
        for p in Payment.objects.filter(source="file")
    }
    report = report_read(result["report"]) if result["report"] else []
    return {
        "counts": {k: v for k, v in result.items() if k != "report"},
        "payments": payments,
        "enrollments": sorted(Enrollment.objects.filter(benefit_year=2025).values_list(
            "resident_id", "status", "kind", "benefit_start", "benefit_end", "status_reason")),
        "claims": sorted(EnrollmentClaim.objects.values_list("id_number", "benefit_year", "county_code", "released_at")),
        "refunds": sorted((ext[r.payment_id], str(r.amount), r.identity) for r in SubsidyRefund.objects.all()),
        "explanations": sorted(QuoteExplanation.objects.values_list("key", flat=True)),
        "events": sorted(entity(e) for e in Event.objects.filter(entity__in=["payment", "enrollment", "subsidy_refund"])),
        "report": sorted((r["sheet"], r["行号"], r["列"], r["原因"]) for r in report),
    }


def _ingest(tmp_path, p, size: int) -> dict:
    with override_settings(YIBAO_INGEST_SLICE_ROWS=size), transaction.atomic():
        result = payments_ingest(path=_file(tmp_path, p), actor="测试", county_code="340321",
                                 report_path=tmp_path / f"report-{size}.xlsx")
        snapshot = _snapshot(result)
        transaction.set_rollback(True)  # the next size starts from the same county
    return snapshot


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_a_file_in_slices_gives_the_rows_events_and_report_of_the_file_in_one_piece(tmp_path, county, size):
    p = county
    whole = _ingest(tmp_path, p, 10_000)
    assert whole["counts"]["booked"] == 5 and whole["counts"]["unchanged"] == 1
    assert any("与第" in reason for *_, reason in whole["report"])  # the repeated id with other content: rejected
    sliced = _ingest(tmp_path, p, size)
    for key in whole:
        assert sliced[key] == whole[key], key


def test_a_large_file_goes_through_several_slices_and_a_persons_lines_stay_together(tmp_path, county, monkeypatch):
    p = county
    seen = []
    real = run._ingest_slice

    def spy(**kwargs):
        seen.append(kwargs["rows"].get_column("id_number").to_list())
        return real(**kwargs)

    monkeypatch.setattr(run, "_ingest_slice", spy)
    with override_settings(YIBAO_INGEST_SLICE_ROWS=2):
        result = payments_ingest(path=_file(tmp_path, p), actor="测试", county_code="340321")
    assert len(seen) > 2
    owners = {}
    for i, numbers in enumerate(seen):
        for number in numbers:
            assert owners.setdefault(number, i) == i  # one ID number, one slice
    twice = Payment.objects.filter(external_id__in=["T013", "T014"]).order_by("external_id")
    assert [x.status for x in twice] == ["flagged", "booked"]  # the earlier of the two books, whatever the slices
    assert result["booked"] == 5


def test_every_decision_key_is_quoted_once_across_slices(tmp_path, monkeypatch):
    """Two people quoted alike in different slices: the engine answers their key once."""
    from yibao.collection.tests import factories as f
    from yibao.policy import bulk

    f.campaign()
    people = [f.person(name=f"同键{i}") for i in range(6)]
    calls = []
    real = bulk.quote_frame

    def spy(policy, frame, **kwargs):
        calls.append(frame.height)
        return real(policy, frame, **kwargs)

    monkeypatch.setattr(bulk, "quote_frame", spy)
    path = write_csv(tmp_path, [line(f"K{i}", person, "400") for i, person in enumerate(people)])
    with override_settings(YIBAO_INGEST_SLICE_ROWS=1):
        result = payments_ingest(path=path, actor="测试", county_code="340321")
    assert result["booked"] == 6 and Payment.objects.values("explanation_key").distinct().count() == 1
    assert calls == [1]  # one key, six slices: quoted once


def test_a_line_paid_before_the_payers_birth_is_held_and_the_file_goes_on(tmp_path, county):  # noqa: F811
    """The engine cannot quote a payment made before the payer's registered birth: that line is held as
    不予受理 with the reason (an ID number or register error), the others book; the file no longer fails whole."""
    from yibao.collection.tests import factories as f
    from yibao.collection.tests.test_ingest import write_csv

    baby = f.person(name="新生癸", birth=dt.date(2024, 11, 2))
    path = write_csv(tmp_path, [line("B001", baby, "400", when="2024-10-08 09:30:00"),
                                line("B002", county["ordinary"], "400")])
    result = payments_ingest(path=path, actor="测试", county_code="340321", report_path=tmp_path / "r.xlsx")
    held = Payment.objects.get(external_id="B001")
    assert held.flag == "not_accepted" and "缴费日期早于户籍名单中的出生日期（2024-11-02）" in held.flag_advice
    assert Payment.objects.get(external_id="B002").flag == ""
    assert result["booked"] == 1 and result["flagged"] == 1


def test_the_file_is_looked_up_once_however_many_slices(tmp_path, county, monkeypatch):  # noqa: F811
    """The stored payment ids, the payers and their facts are read once for the file: the statements that
    read the county's tables do not multiply with the slices (each used to read the county's range again)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    calls = []
    real = run._ingest_slice
    monkeypatch.setattr(run, "_ingest_slice", lambda **kw: calls.append(1) or real(**kw))

    def lookups(size: int) -> list[str]:
        calls.clear()
        with CaptureQueriesContext(connection) as seen, override_settings(YIBAO_INGEST_SLICE_ROWS=size), \
                transaction.atomic():
            payments_ingest(path=_file(tmp_path, county), actor="测试", county_code="340321",
                            report_path=tmp_path / f"report-{size}.xlsx")
            transaction.set_rollback(True)
        assert (len(calls) == 1) if size > 100 else (len(calls) > 3), calls  # in one piece, or in many slices
        return [q["sql"] for q in seen.captured_queries
                if "collection_stage_payment" in q["sql"] or "collection_stage_resident" in q["sql"]]

    whole, sliced = lookups(10_000), lookups(1)
    assert len(whole) > 5 and len(sliced) == len(whole)


@pytest.mark.parametrize("size", [50, 100_000])
def test_the_progress_bar_ends_full_and_never_past_the_end(tmp_path, county, size):  # noqa: F811
    """500 lines (unknown payers: looked up, flagged, written): the bar's steps add up to the file, not past it."""
    from yibao.core.idnumber import check_character

    numbers = [f"34032119800101{i:03d}" for i in range(500)]
    path = write_csv(tmp_path, [line(f"B{i:04d}", n + check_character(n), "400") for i, n in enumerate(numbers)])

    class Bar:
        total, done = 0, 0

        def start(self, total, message=""):
            self.total = total

        def advance(self, n=1):
            self.done += n

        def step(self, message):
            pass

    bar = Bar()
    with override_settings(YIBAO_INGEST_SLICE_ROWS=size):
        result = payments_ingest(path=path, actor="测试", county_code="340321", progress=bar)
    assert result["flagged"] == 500 and bar.total == 500
    assert 0.9 * bar.total <= bar.done <= bar.total

"""Channel files: bulk booking, flags, repeats, the error report, and agreement with `quote`."""

import datetime as dt
from decimal import Decimal

import pytest

from yibao.collection import services as s
from yibao.collection.ingest import IngestError, channel_code, payments_ingest
from yibao.collection.models import Payment, QuoteExplanation, SubsidyRefund
from yibao.collection.tests import factories as f
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import person_for
from yibao.imports.reports import report_read
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy
from yibao.registry.models import Flag

pytestmark = pytest.mark.django_db

HEADER = "交易流水号,身份证号码,姓名,所属年度,金额,缴费渠道,缴费时间,电子票据号"


def write_csv(tmp_path, lines, name="detail.csv", header=HEADER, encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return path


def line(ext, person_or_id, amount, when="2024-10-08 09:30:00", year="2025", channel="微信", ticket=""):
    number = person_or_id if isinstance(person_or_id, str) else person_or_id.id_number
    name = "" if isinstance(person_or_id, str) else person_or_id.name
    return f"{ext},{number},{name},{year},{amount},{channel},{when},{ticket}"


@pytest.fixture
def county():
    f.campaign()
    people = {
        "ordinary": f.person(name="普通甲"),
        "dibao": f.person(name="低保乙", identities=["dibao"]),
        "short": f.person(name="少缴丙"),
        "early": f.person(name="早缴丁"),
        "blocked": f.person(name="受限戊"),
        "paid": f.person(name="已缴己"),
        "entitled": f.person(name="优抚庚", identities=["entitled_group"]),
        "late": f.person(name="逾期辛"),
        "twice": f.person(name="两笔壬"),
    }
    Flag.objects.create(county_code="340321", resident=people["blocked"], kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某厂")
    s.payment_collect(residents=[people["paid"]], channel="cash", actor="测试", paid_at=f.at("2024-09-20"))
    return people


def the_file(tmp_path, p):
    unknown = f.id_number("340321", dt.date(1990, 1, 1))
    return write_csv(tmp_path, [
        line("T001", p["ordinary"], "400.00", ticket="E0001"),
        line("T002", p["dibao"], "400", channel="支付宝"),
        line("T003", p["short"], "300", channel="皖事通APP"),
        line("T004", unknown, "400"),
        line("T005", p["early"], "400", when="2024-08-15 10:00:00"),
        line("T006", p["blocked"], "400"),
        line("T007", p["paid"], "400", when="2024-10-09 08:00:00"),
        line("T008", p["entitled"], "¥400.00", channel="农商银行代扣"),
        line("T009", "34032119800517123X", "400"),
        line("T010", p["ordinary"].id_number[:-1] + "0", "abc"),
        line("T011", p["late"], "400", when="明天"),
        line("T012", p["late"], "400", when="2025/1/15 14:20:00"),
        line("T013", p["twice"], "400", when="2024-11-02 10:00:00"),
        line("T014", p["twice"], "400", when="2024-11-01 10:00:00"),
        line("T001", p["ordinary"], "400.00", ticket="E0001"),
        line("T015", p["ordinary"], "400", year="2024"),
        line("T016", p["dibao"], "60", channel="飞鸽传书", when="2024-12-31 23:59:59"),
    ])


def test_a_channel_file_is_booked_flagged_rejected_row_by_row(tmp_path, county):
    p = county
    result = payments_ingest(path=the_file(tmp_path, p), actor="县税务局", county_code="340321")
    assert result["rows"] == 17
    # booked: T001 ordinary, T008 entitled, T012 late, T014 (the earlier of two), T016 (60 yuan is what dibao owes)
    assert result["booked"] == 5
    assert result["flagged_by_kind"] == {"unknown_person": 1, "duplicate": 2, "blocked": 1, "not_accepted": 1,
                                         "under": 1, "over": 1}
    assert result["flagged"] == 7
    assert result["unchanged"] == 1  # T001 repeated identically in the file
    assert result["rejected"] == 4  # T009 checksum, T010 amount, T011 time, T015 year not opened

    by_ext = {x.external_id: x for x in Payment.objects.filter(source="file")}
    assert by_ext["T001"].status == "booked" and by_ext["T001"].ticket_no == "E0001" and by_ext["T001"].channel == "wechat"
    assert by_ext["T002"].flag == "over" and by_ext["T002"].flag_advice == "多缴340元，请办理退费"
    assert by_ext["T002"].expected_amount == Decimal("60.00") and by_ext["T002"].status == "flagged"
    assert by_ext["T003"].flag == "under" and by_ext["T003"].flag_advice == "少缴100元，请补缴差额"
    assert by_ext["T003"].channel == "tax_app"
    assert by_ext["T004"].flag == "unknown_person" and by_ext["T004"].resident_id is None
    assert by_ext["T005"].flag == "not_accepted" and "征缴期尚未开始" in by_ext["T005"].flag_advice
    assert by_ext["T006"].flag == "blocked" and "已参加职工医保（某厂）" in by_ext["T006"].flag_advice
    assert by_ext["T007"].flag == "duplicate"
    assert by_ext["T007"].flag_advice.startswith(  # what was paid, when and on which receipt, as the counter says
        "该人员已于2024年9月20日缴纳2025年度居民医保费400元（现金，票据号 340321-2025-0000001）")
    assert "重复缴费，请办理退费" in by_ext["T007"].flag_advice
    assert by_ext["T008"].status == "booked" and by_ext["T008"].refund_later == 400 and by_ext["T008"].channel == "bank"
    assert by_ext["T013"].flag == "duplicate" and "T014" in by_ext["T013"].flag_advice
    assert by_ext["T014"].status == "booked"
    assert by_ext["T016"].status == "booked" and by_ext["T016"].channel == "other" and by_ext["T016"].amount == 60
    for flagged in ("T002", "T003", "T004", "T005", "T006", "T007", "T013"):
        assert by_ext[flagged].enrollment_id is None and by_ext[flagged].benefit_start is None

    owed = SubsidyRefund.objects.get()
    assert owed.payment_id == by_ext["T008"].pk and owed.amount == 400 and owed.identity == "entitled_group"
    report = report_read(result["report"])
    rejected = {(r["行号"], r["列"]) for r in report if r["sheet"].startswith("错误")}
    assert (10, "身份证号码") in rejected and (11, "金额") in rejected and (12, "缴费时间") in rejected
    assert (17, "缴费年度") in rejected
    reasons = {r["行号"]: r["原因"] for r in report if r["sheet"].startswith("错误")}
    assert "校验位错误" in reasons[10] and "不是数字" in reasons[11] and "无法识别" in reasons[12]
    assert "尚未开启2024年度征缴" in reasons[17]
    warnings = {r["行号"]: r["原因"] for r in report if r["sheet"].startswith("警告")}
    assert "未识别的缴费渠道“飞鸽传书”" in warnings[18]


def test_the_right_amount_after_an_over_payment_is_booked(tmp_path, county):
    """An over-payment is only flagged, so a later payment of the right amount books."""
    p = county
    path = write_csv(tmp_path, [line("A1", p["dibao"], "400"), line("A2", p["dibao"], "60", when="2024-12-31 23:59:59")])
    result = payments_ingest(path=path, actor="测试", county_code="340321")
    assert result["booked"] == 1 and result["flagged_by_kind"]["over"] == 1
    assert Payment.objects.get(external_id="A2").status == "booked"


@pytest.mark.parametrize("chunks", [None, (1, 2), (2, 3)], ids=["whole", "chunks-1-2", "chunks-2-3"])
def test_booked_amounts_and_dates_agree_with_quote(tmp_path, county, chunks, monkeypatch):
    """Also with persons quoted and events written a slice at a time (1M-line files do that)."""
    from yibao.collection.ingest import decide, write

    if chunks:
        monkeypatch.setattr(decide, "QUOTE_CHUNK", chunks[0])
        monkeypatch.setattr(write, "EVENT_CHUNK", chunks[1])
    p = county
    result = payments_ingest(path=the_file(tmp_path, p), actor="测试", county_code="340321")
    from_file = [str(pk) for pk in Payment.objects.filter(source="file").values_list("pk", flat=True)]
    assert len(from_file) == result["booked"] + result["flagged"]
    assert sorted(Event.objects.filter(entity="payment", entity_id__in=from_file).values_list("entity_id", flat=True)) \
        == sorted(from_file)
    paid = [str(pk) for pk in Payment.objects.filter(source="file", status="booked").values_list("enrollment_id", flat=True)]
    assert Event.objects.filter(entity="enrollment", action="paid", entity_id__in=paid).count() == result["booked"]
    assert Event.objects.filter(entity="subsidy_refund", action="created").count() == SubsidyRefund.objects.filter(
        payment__source="file").count() > 0
    policy = load_policy("anhui-huaiyuan-2025")
    booked = Payment.objects.filter(source="file", status="booked").select_related("resident")
    assert booked.count() == 5
    for payment in booked:
        expected = quote(policy, person_for(resident=payment.resident, on=payment.paid_on, benefit_year=2025), payment.paid_on)
        assert payment.amount == expected.payable
        assert (payment.benefit_start, payment.benefit_end) == (expected.benefit_start, expected.benefit_end)
        assert payment.refund_later == expected.refund_later and payment.rule == expected.rule
        assert QuoteExplanation.objects.get(key=payment.explanation_key).lines == list(expected.explanation)
        enrollment = Enrollment.objects.get(pk=payment.enrollment_id)
        assert enrollment.status == "paid" and enrollment.benefit_start == expected.benefit_start
        assert EnrollmentClaim.objects.filter(enrollment_id=enrollment.pk, released_at__isnull=True).exists()
    late = booked.get(external_id="T012")
    assert late.rule == "late_enrollment_waiting_period" and late.benefit_start == dt.date(2025, 4, 16)
    assert any("待遇等待期" in line for line in QuoteExplanation.objects.get(key=late.explanation_key).lines)


def test_ingesting_the_same_file_twice_books_once(tmp_path, county):
    p = county
    path = the_file(tmp_path, p)
    first = payments_ingest(path=path, actor="测试", county_code="340321")
    before = (Payment.objects.count(), Enrollment.objects.count(), SubsidyRefund.objects.count(), Event.objects.count())
    second = payments_ingest(path=path, actor="测试", county_code="340321")
    assert second["booked"] == 0 and second["flagged"] == 0
    assert second["unchanged"] == first["booked"] + first["flagged"] + first["unchanged"]
    assert second["rejected"] == first["rejected"]
    assert (Payment.objects.count(), Enrollment.objects.count(), SubsidyRefund.objects.count(), Event.objects.count()) == before


def test_an_ingest_that_books_recounts_the_county_progress(tmp_path, county):
    from yibao.progress.models import VillageProgress

    first = payments_ingest(path=the_file(tmp_path, county), actor="测试", county_code="340321")
    assert first["booked"] > 0
    counted = VillageProgress.objects.filter(county_code="340321", benefit_year=2025)
    assert sum(counted.values_list("paid", flat=True)) == Payment.objects.filter(status="booked").count()


def test_a_payment_id_seen_in_an_earlier_file_is_unchanged_even_in_a_new_file(tmp_path, county):
    p = county
    payments_ingest(path=write_csv(tmp_path, [line("X1", p["ordinary"], "400")], name="a.csv"), actor="测试",
                    county_code="340321")
    result = payments_ingest(
        path=write_csv(tmp_path, [line("X1", p["ordinary"], "500"), line("X2", p["short"], "400")], name="b.csv"),
        actor="测试", county_code="340321",
    )
    assert result["unchanged"] == 1 and result["booked"] == 1
    assert Payment.objects.get(external_id="X1").amount == 400
    warnings = [r for r in report_read(result["report"]) if r["sheet"].startswith("警告")]
    assert warnings[0]["行号"] == 2 and "已入库" in warnings[0]["原因"]


def test_events_for_every_payment_and_enrollment(tmp_path, county):
    p = county
    payments_ingest(path=the_file(tmp_path, p), actor="县税务局", county_code="340321")
    file_ids = {str(x) for x in Payment.objects.filter(source="file").values_list("id", flat=True)}
    events = Event.objects.filter(entity="payment", entity_id__in=file_ids)
    assert events.filter(action="booked").count() == 5 and events.filter(action="flagged").count() == 7
    flagged = events.filter(action="flagged").first()
    assert flagged.actor_name == "县税务局" and flagged.after["status"] == "flagged" and "：" in flagged.reason
    enrollment_ids = {str(x) for x in Payment.objects.filter(source="file", status="booked").values_list("enrollment_id", flat=True)}
    paid = Event.objects.filter(entity="enrollment", action="paid", entity_id__in=enrollment_ids)
    assert paid.count() == 5 and paid.first().after["kind"] == "first"
    assert Event.objects.filter(entity="subsidy_refund", action="created").count() == 1


def test_a_registered_enrollment_is_marked_paid_and_a_renewal_is_recognised(tmp_path):
    from yibao.enrollment.models import Campaign
    from yibao.enrollment.services import enrollment_register

    campaign = f.campaign()
    registered = f.person(name="已登记")
    enrollment = enrollment_register(resident=registered, campaign=campaign, actor="测试")
    renewing = f.person(name="续保人")
    last_year = Campaign.objects.create(county_code="340321", benefit_year=2024, policy_id="anhui-huaiyuan-2025",
                                        policy_version="x", collection_start=dt.date(2023, 9, 1),
                                        collection_end=dt.date(2023, 12, 31))
    Enrollment.objects.create(county_code="340321", township_code="340321100", village_code=f.VILLAGE, campaign=last_year,
                              benefit_year=2024, resident=renewing, id_number=renewing.id_number, kind="first",
                              status="paid")
    result = payments_ingest(path=write_csv(tmp_path, [line("R1", registered, "400"), line("R2", renewing, "400")]),
                             actor="测试", county_code="340321")
    assert result["booked"] == 2
    enrollment.refresh_from_db()
    assert enrollment.status == "paid" and enrollment.benefit_start == dt.date(2025, 1, 1)
    assert Payment.objects.get(external_id="R1").enrollment_id == enrollment.pk
    assert Enrollment.objects.get(resident=renewing, benefit_year=2025).kind == "renewal"
    assert Enrollment.objects.filter(resident=registered).count() == 1


def test_a_file_that_books_only_people_already_registered(tmp_path):
    """No new enrollment to write: the registered ones are marked paid, the file does not fail."""
    from yibao.enrollment.services import enrollment_register

    campaign = f.campaign()
    registered = f.person(name="已登记")
    enrollment = enrollment_register(resident=registered, campaign=campaign, actor="测试")
    result = payments_ingest(path=write_csv(tmp_path, [line("R1", registered, "400")]), actor="测试",
                             county_code="340321")
    assert result["booked"] == 1
    enrollment.refresh_from_db()
    assert enrollment.status == "paid" and Payment.objects.get(external_id="R1").enrollment_id == enrollment.pk


def test_blocks_match_the_scalar_enrollment_checks(tmp_path):
    """Each reason enrollment_register refuses is also a 'blocked' flag in bulk."""
    from yibao.enrollment.services import EnrollmentError, enrollment_end, enrollment_register

    campaign = f.campaign()
    elsewhere = f.person(name="外县已登记")
    EnrollmentClaim.objects.create(id_number=elsewhere.id_number, benefit_year=2025, county_code="340322", enrollment_id=999_999)
    dead = f.person(name="已故")
    dead.status = "deceased"
    dead.save()
    ended = f.person(name="已终止")
    enrollment_end(enrollment=enrollment_register(resident=ended, campaign=campaign, actor="测试"), action="terminate",
                   reason="参加职工医保", actor="测试", release_claim=True)
    rows = [line(f"B{i}", person, "400") for i, person in enumerate((elsewhere, dead, ended))]
    result = payments_ingest(path=write_csv(tmp_path, rows), actor="测试", county_code="340321")
    assert result["flagged_by_kind"]["blocked"] == 3
    advice = {x.resident.name: x.flag_advice for x in Payment.objects.select_related("resident")}
    assert "已在340322 县登记2025年度居民医保" in advice["外县已登记"]  # a county not loaded: by its code
    from yibao.regions.models import Region

    Region.objects.create(code="340322", name="五河县", level=6, county_code="340322")
    Payment.objects.all().delete()
    payments_ingest(path=write_csv(tmp_path, rows[:1], name="again.csv"), actor="测试", county_code="340321")
    assert "已在五河县登记2025年度居民医保" in Payment.objects.get().flag_advice  # a loaded one: by its name
    assert "户籍状态为“已死亡”" in advice["已故"]
    assert "参保关系已终止（参加职工医保）" in advice["已终止"]
    for person in (elsewhere, dead):
        with pytest.raises(EnrollmentError):
            enrollment_register(resident=person, campaign=campaign, actor="测试")


def test_xlsx_with_real_dates_and_numbers(tmp_path, county):
    import xlsxwriter

    p = county
    path = tmp_path / "税务明细.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("明细")
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheet.write_row(0, 0, ["国家税务总局怀远县税务局 城乡居民医保缴费明细"])
    sheet.write_row(1, 0, ["缴费流水号", "身份证号", "缴费年度", "缴费金额", "缴费渠道", "缴费时间", "票据号"])
    sheet.write_row(2, 0, ["X100", p["ordinary"].id_number, 2025, 400, "微信"])
    sheet.write_datetime(2, 5, dt.datetime(2024, 10, 8, 9, 30), when)
    sheet.write_row(3, 0, ["X101", p["dibao"].id_number, 2025, 60.0, "现金"])
    sheet.write_datetime(3, 5, dt.datetime(2024, 12, 31, 18, 0), when)
    book.close()
    result = payments_ingest(path=path, actor="测试", county_code="340321")
    assert result["booked"] == 2 and result["rejected"] == 0
    payment = Payment.objects.get(external_id="X100")
    assert payment.paid_on == dt.date(2024, 10, 8) and payment.paid_at.astimezone(f.SHANGHAI).hour == 9
    assert Payment.objects.get(external_id="X101").channel == "cash"


def test_gbk_csv_and_county_inferred(tmp_path, county):
    p = county
    path = write_csv(tmp_path, [line("G1", p["ordinary"], "400")], encoding="gbk")
    result = payments_ingest(path=path, actor="测试")
    assert result["county_code"] == "340321" and result["booked"] == 1


def test_a_file_of_several_counties_needs_a_county(tmp_path, county):
    p = county
    other = f.person(village="340322100001", name="外县人")
    path = write_csv(tmp_path, [line("M1", p["ordinary"], "400"), line("M2", other, "400")])
    with pytest.raises(IngestError, match="分属多个县（340321、340322）"):
        payments_ingest(path=path, actor="测试")
    # with the county named, the other county's person is not found here
    result = payments_ingest(path=path, actor="测试", county_code="340321")
    assert result["booked"] == 1 and result["flagged_by_kind"]["unknown_person"] == 1


def test_missing_required_column_is_a_clear_error(tmp_path, county):
    from yibao.imports.readers import ImportFileError

    path = write_csv(tmp_path, ["1,2,3"], header="身份证号码,金额,缴费时间")
    with pytest.raises(ImportFileError, match="缺少必需的列：缴费流水号、缴费年度"):
        payments_ingest(path=path, actor="测试", county_code="340321")


@pytest.mark.parametrize("text, code", [("微信小程序", "wechat"), ("支付宝", "alipay"), ("现金", "cash"), ("POS机", "pos"),
                                        ("银行柜台", "bank"), ("楚税通", "tax_app"), ("", "other"), ("wechat", "wechat")])
def test_channel_words(text, code):
    assert channel_code(text)[0] == code


# ---------------------------------------------------------------- refunds of flagged payments


def test_flagged_over_payment_refund_books_the_rest(tmp_path, county):
    p = county
    payments_ingest(path=write_csv(tmp_path, [line("O1", p["dibao"], "400")]), actor="测试", county_code="340321")
    payment = Payment.objects.get(external_id="O1")
    with pytest.raises(s.PaymentError, match="退费原因应为“多缴退还差额”"):
        s.refund_request(payment=payment, reason="death", actor="测试")
    refund = s.refund_request(payment=payment, reason="多缴", actor="测试")
    assert refund.amount == Decimal("340.00") and refund.enrollment_action == "none"
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    payment.refresh_from_db()
    assert payment.status == "booked" and payment.benefit_start == dt.date(2025, 1, 1)
    assert Enrollment.objects.get(resident=p["dibao"]).status == "paid"
    assert "已退还多缴340元" in payment.flag_advice


def test_flagged_duplicate_refund_returns_the_whole_payment(tmp_path, county):
    p = county
    payments_ingest(path=write_csv(tmp_path, [line("D1", p["paid"], "400")]), actor="测试", county_code="340321")
    payment = Payment.objects.get(external_id="D1")
    refund = s.refund_request(payment=payment, reason="duplicate_payment", actor="测试", on=dt.date(2025, 6, 1))
    assert refund.amount == 400  # not bound to the benefit period: it never bought any cover
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert Enrollment.objects.get(resident=p["paid"]).status == "paid"  # the first payment still stands


def test_an_under_payment_is_topped_up_at_the_counter_and_booked(tmp_path, county, settings):
    p = county
    payments_ingest(path=write_csv(tmp_path, [line("U1", p["short"], "300")]), actor="测试", county_code="340321")
    under = Payment.objects.get(external_id="U1")
    assert under.flag_advice == "少缴100元，请补缴差额"
    settings.YIBAO_TODAY = "2024-11-15"
    with pytest.raises(s.PaymentError, match="窗口收款方式只能是"):
        s.payment_top_up(payment=under, channel="bank", actor="测试")
    result = s.payment_top_up(payment=under, channel="cash", actor="村收款员")
    top = result.payments[0]
    assert top.status == "topup" and top.amount == 100 and top.top_up_of_id == under.pk
    assert result.receipt.total == 100 and result.receipt.lines.get().payment_id == top.pk
    under.refresh_from_db()
    assert under.status == "booked" and under.expected_amount == 400 and under.benefit_start == dt.date(2025, 1, 1)
    assert "已于2024年11月15日补缴差额100元" in under.flag_advice
    enrollment = Enrollment.objects.get(resident=p["short"])
    assert enrollment.status == "paid" and under.enrollment_id == enrollment.pk
    with pytest.raises(s.PaymentError, match="只有标记为“少缴”的缴费才能补缴差额"):
        s.payment_top_up(payment=under, channel="cash", actor="测试")
    # a refund before benefits begin returns both parts and closes both rows
    refund = s.refund_request(payment=under, reason="death", actor="测试", on=dt.date(2024, 12, 1))
    assert refund.amount == 400
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    assert set(Payment.objects.filter(resident=p["short"]).values_list("status", flat=True)) == {"refunded"}


def test_topping_up_when_already_paid_is_refused(tmp_path, county, settings):
    p = county
    payments_ingest(path=write_csv(tmp_path, [line("U2", p["paid"], "300")]), actor="测试", county_code="340321")
    flagged = Payment.objects.get(external_id="U2")
    assert flagged.flag == "duplicate"  # already paid: a duplicate, not an under-payment
    payments_ingest(path=write_csv(tmp_path, [line("U3", p["short"], "300"), line("U4", p["short"], "400",
                                                                                  when="2024-10-09 09:00:00")],
                                   name="b.csv"), actor="测试", county_code="340321")
    settings.YIBAO_TODAY = "2024-11-15"
    with pytest.raises(s.PaymentError, match="不能重复收款。本笔少缴款项请办理退费"):
        s.payment_top_up(payment=Payment.objects.get(external_id="U3"), channel="cash", actor="测试")


def test_a_payer_name_with_control_characters_or_too_long_is_a_row_error(tmp_path, county):
    p = county
    unknown = f.id_number("340321", dt.date(1991, 2, 3))
    path = write_csv(tmp_path, [
        f"T101,{p['ordinary'].id_number},普通\u202e甲,2025,400,微信,2024-10-08 09:30:00,",
        f"T102,{unknown},{'名' * 51},2025,400,微信,2024-10-08 09:30:00,",
    ])
    result = payments_ingest(path=path, actor="县税务局", county_code="340321")
    assert result["rejected"] == 2 and result["booked"] == 0
    reasons = {r["行号"]: r["原因"] for r in report_read(result["report"]) if r["sheet"].startswith("错误")}
    assert "控制字符" in reasons[2] and "超过50个字" in reasons[3]

"""The gate every booking path passes before the quote (counter, 补缴差额, channel file, 重新匹配):
no payment dated after the business day, nothing into a closed year but what its late rules accept."""

import datetime as dt

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection import services as s
from yibao.collection.ingest import payments_ingest
from yibao.collection.models import Payment, Receipt
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.services import (
    campaign_close,
    campaign_reopen,
    enrollment_register,
)
from yibao.enrollment.tests.factories import region_tree

pytestmark = pytest.mark.django_db
runner = CliRunner()
FUTURE = "缴费日期2024年10月15日晚于今天（2024年10月8日），不能入账"
CLOSED = "2025年度征缴已结束，2024年10月8日的缴费不再入账"


@pytest.fixture
def today(settings):
    settings.YIBAO_TODAY = "2024-10-08"  # inside Huaiyuan's window (2024-09-01 to 2024-12-31)


def under_paid(tmp_path, person, ext="S001", when="2024-10-08 09:00:00"):
    payments_ingest(path=write_csv(tmp_path, [line(ext, person, "300", when=when)], name=f"{ext}.csv"), actor="测试",
                    county_code="340321")
    payment = Payment.objects.get(external_id=ext)
    assert payment.flag == "under"
    return payment


def close(campaign=None):
    return campaign_close(campaign=campaign or Campaign.objects.get(benefit_year=2025), actor="测试", reason="征缴结束")


# ---------------------------------------------------------------- dated after the business day


def test_the_counter_refuses_a_payment_dated_after_the_business_day(today):
    f.campaign()
    person = f.person(name="未来甲")
    with pytest.raises(s.PaymentError, match=FUTURE):
        s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-15"))
    assert not Payment.objects.exists() and not Receipt.objects.exists() and not Enrollment.objects.exists()
    assert s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08")).payments


def test_cli_pay_refuses_paid_at_a_week_after_the_business_day(today):
    f.campaign()
    person = f.person(name="未来乙")
    result = runner.invoke(app, ["pay", "--id-number", person.id_number, "--year", "2025", "--amount", "400",
                                 "--channel", "cash", "--paid-at", "2024-10-15T09:00"])
    assert result.exit_code != 0 and FUTURE in result.output
    assert not Payment.objects.exists()


def test_a_top_up_dated_after_the_business_day_is_refused(today, tmp_path):
    f.campaign()
    person = f.person(name="未来丙")
    payment = under_paid(tmp_path, person)
    with pytest.raises(s.PaymentError, match=f"未来丙.*补缴差额不能入账：{FUTURE}"):
        s.payment_top_up(payment=payment, channel="cash", actor="测试", paid_at=f.at("2024-10-15"))
    payment.refresh_from_db()
    assert payment.status == "flagged" and not Receipt.objects.exists()


def test_a_channel_line_dated_after_the_business_day_is_flagged_not_booked(today, tmp_path):
    f.campaign()
    person = f.person(name="未来丁")
    result = payments_ingest(path=write_csv(tmp_path, [line("F001", person, "400", when="2024-10-12 10:00:00")]),
                             actor="测试", county_code="340321")
    assert result["booked"] == 0 and result["flagged_by_kind"]["not_accepted"] == 1 and result["rejected"] == 0
    payment = Payment.objects.get(external_id="F001")
    assert payment.status == "flagged" and payment.flag == "not_accepted"
    assert payment.flag_advice == "不予受理：缴费日期2024年10月12日晚于今天（2024年10月8日），不能入账。"
    assert not Enrollment.objects.exists() and not EnrollmentClaim.objects.exists()


def test_an_enrollment_registered_by_a_channel_line_is_stamped_on_the_business_day(today, tmp_path):
    """As at the counter: the 登记时间 of the enrollment a channel line registers is the business day."""
    f.campaign()
    person = f.person(name="渠道甲")
    payments_ingest(path=write_csv(tmp_path, [line("B001", person, "400", when="2024-10-07 10:00:00")]),
                    actor="测试", county_code="340321")
    enrollment = Enrollment.objects.get(resident=person)
    assert enrollment.status == "paid"
    assert timezone.localtime(enrollment.registered_at).date() == dt.date(2024, 10, 8)


# ---------------------------------------------------------------- a closed year


def test_the_counter_refuses_a_closed_year_even_for_a_registered_person(today):
    campaign = f.campaign()
    person = f.person(name="结束甲")
    enrollment_register(resident=person, campaign=campaign, actor="测试")  # registered before the close
    paid = f.person(name="结束已缴")
    s.payment_collect(residents=[paid], channel="cash", actor="测试")
    close(campaign)
    with pytest.raises(s.PaymentError, match=CLOSED):
        s.payment_collect(residents=[person], channel="cash", actor="测试", benefit_year=2025)
    assert Payment.objects.count() == 1 and Enrollment.objects.get(resident=person).status == "registered"
    # who paid hears so, and still nothing books: the gate's reason follows
    with pytest.raises(s.PaymentError, match="结束已缴.*已于2024年10月8日缴纳2025年度居民医保费400元.*不能重复收款。.*" + CLOSED):
        s.payment_collect(residents=[paid], channel="cash", actor="测试", benefit_year=2025)
    assert Payment.objects.count() == 1


def test_the_counter_page_and_api_say_the_year_closed_not_that_it_never_opened(today, client, make_user):
    from yibao.regions.models import Region

    close(f.campaign())
    person = f.person(name="结束戊")
    Region.objects.filter(code="340321").update(name="怀远县")
    with pytest.raises(s.PaymentError, match="^怀远县2025年度征缴已结束，当前没有征缴中的年度"):
        s.payment_collect(residents=[person], channel="cash", actor="测试")
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    dues = client.get(f"/api/collection/residents/{person.pk}/dues").json()
    assert dues["benefit_year"] is None and "2025年度征缴已结束" in dues["error"]
    page = client.get(f"/collection/counter/residents/{person.pk}/").content.decode()
    assert "2025年度征缴已结束" in page and "尚未开启" not in page and 'id="pay-button"' not in page
    assert not Payment.objects.exists()


def test_a_channel_line_for_a_closed_year_is_flagged_and_registers_nobody(today, tmp_path):
    close(f.campaign())
    person = f.person(name="结束乙")
    result = payments_ingest(path=write_csv(tmp_path, [line("C001", person, "400")]), actor="测试", county_code="340321")
    assert result["booked"] == 0 and result["flagged_by_kind"]["not_accepted"] == 1
    payment = Payment.objects.get(external_id="C001")
    assert payment.status == "flagged" and payment.flag == "not_accepted" and CLOSED in payment.flag_advice
    assert payment.enrollment_id is None
    assert not Enrollment.objects.exists() and not EnrollmentClaim.objects.exists()


def test_recheck_books_nothing_into_a_closed_year_until_it_is_reopened(today, tmp_path):
    campaign = f.campaign()
    region_tree()
    unknown = f.id_number("340321")
    payments_ingest(path=write_csv(tmp_path, [line("R001", unknown, "400")]), actor="测试", county_code="340321")
    f.resident(name="后登记", id_no=unknown)
    close(campaign)
    payment = s.payment_recheck(payment=Payment.objects.get(external_id="R001"), actor="测试")
    assert payment.status == "flagged" and payment.flag == "not_accepted" and CLOSED in payment.flag_advice
    assert not Enrollment.objects.exists()
    campaign_reopen(campaign=Campaign.objects.get(pk=campaign.pk), actor="测试", reason="补录")
    payment = s.payment_recheck(payment=payment, actor="测试")
    assert payment.status == "booked" and Enrollment.objects.get().status == "paid"


def test_a_top_up_into_a_closed_year_is_refused(today, tmp_path):
    campaign = f.campaign()
    payment = under_paid(tmp_path, f.person(name="结束丙"))
    close(campaign)
    with pytest.raises(s.PaymentError, match=f"结束丙.*补缴差额不能入账：{CLOSED}"):
        s.payment_top_up(payment=payment, channel="cash", actor="测试")
    payment.refresh_from_db()
    assert payment.status == "flagged" and not Receipt.objects.exists()


def test_refunding_an_excess_books_no_rest_into_a_closed_year(today, tmp_path):
    campaign = f.campaign()
    person = f.person(name="结束丁")
    payments_ingest(path=write_csv(tmp_path, [line("O001", person, "500")]), actor="测试", county_code="340321")
    payment = Payment.objects.get(external_id="O001")
    assert payment.flag == "over"
    enrollment_register(resident=person, campaign=campaign, actor="测试")
    refund = s.refund_request(payment=payment, reason="多缴", actor="测试")
    s.refund_approve(refund=refund, actor="测试")
    close(campaign)
    with pytest.raises(s.PaymentError, match=f"结束丁.*其余款项须入账，现不能入账：{CLOSED}"):
        s.refund_book(refund=refund, actor="测试")
    payment.refresh_from_db()
    refund.refresh_from_db()
    assert payment.status == "flagged" and refund.status == "approved"
    assert Enrollment.objects.get(resident=person).status == "registered"


def test_a_closed_year_books_late_payments_only_under_the_late_rules(settings, tmp_path):
    """After the window (2025-01-15), Huaiyuan's late rule accepts a payment with a waiting period: a person
    registered before the close is booked under it, and so is a newcomer, whom it registers (the quote
    accepts them under a late rule); a line dated inside the window books nothing."""
    settings.YIBAO_TODAY = "2025-01-15"
    campaign = f.campaign()
    registered, newcomer, in_window = f.person(name="逾期甲"), f.person(name="逾期乙"), f.person(name="窗口丙")
    for person in (registered, in_window):
        enrollment_register(resident=person, campaign=campaign, actor="测试")
    close(campaign)
    payment = s.payment_collect(residents=[registered], channel="cash", actor="测试", benefit_year=2025).payments[0]
    assert payment.status == "booked" and payment.rule == "late_enrollment_waiting_period"
    path = write_csv(tmp_path, [line("L001", newcomer, "400", when="2025-01-10 10:00:00"),
                                line("L002", in_window, "400", when="2024-12-20 10:00:00")])
    result = payments_ingest(path=path, actor="测试", county_code="340321")
    assert result["booked"] == 1
    newcomer_line, window_line = Payment.objects.get(external_id="L001"), Payment.objects.get(external_id="L002")
    assert newcomer_line.status == "booked" and newcomer_line.rule == "late_enrollment_waiting_period"
    assert newcomer_line.benefit_start == dt.date(2025, 4, 11)  # the next day plus 3 months' waiting period
    assert Enrollment.objects.get(resident=newcomer).status == "paid"
    assert window_line.flag == "not_accepted" and "2024年12月20日的缴费不再入账" in window_line.flag_advice


def test_a_channel_line_for_an_imported_history_year_is_flagged(settings, tmp_path):
    from yibao.imports.tests.roster import paid, roster_import

    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.resident(name="历史乙")
    roster_import(tmp_path, [paid(person)])
    newcomer = f.resident(name="历史丙")  # not on last year's roster
    result = payments_ingest(path=write_csv(tmp_path, [line("H001", newcomer, "380", year="2024", when="2024-03-01 10:00:00")]),
                             actor="测试", county_code="340321")
    assert result["booked"] == 0 and result["flagged_by_kind"]["not_accepted"] == 1
    assert Payment.objects.get(external_id="H001").flag_advice == "不予受理：2024年度为导入的历史名单，没有缴费政策，不能收款。"


def test_a_history_year_line_for_a_person_on_that_list_is_refused_at_the_gate_not_a_duplicate(settings, tmp_path):
    """The gate decides before duplicate detection, at ingest and at 重新匹配 as at the counter: a line
    for an imported history year is 不予受理 with the history reason, even for a person the list shows paid."""
    from yibao.imports.tests.roster import paid, roster_import

    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.resident(name="历史丁")
    roster_import(tmp_path, [paid(person)])
    assert Enrollment.objects.get(resident=person, benefit_year=2024).status == "paid"
    result = payments_ingest(path=write_csv(tmp_path, [line("H002", person, "380", year="2024", when="2024-03-01 10:00:00")]),
                             actor="测试", county_code="340321")
    assert result["flagged_by_kind"]["not_accepted"] == 1 and result["flagged_by_kind"]["duplicate"] == 0
    history = "不予受理：2024年度为导入的历史名单，没有缴费政策，不能收款。"
    payment = Payment.objects.get(external_id="H002")
    assert (payment.flag, payment.flag_advice) == ("not_accepted", history)
    payment = s.payment_recheck(payment=payment, actor="测试")
    assert (payment.flag, payment.flag_advice) == ("not_accepted", history)
    with pytest.raises(s.PaymentError, match="2024年度为导入的历史名单"):
        s.payment_collect(residents=[person], channel="cash", actor="测试", benefit_year=2024)


def test_recheck_asks_the_gate_before_looking_for_a_booked_payment(today, tmp_path):
    """A line for a closed year whose person paid meanwhile: the gate's reason, as at ingest and the counter."""
    campaign = f.campaign()
    region_tree()
    unknown = f.id_number("340321")
    payments_ingest(path=write_csv(tmp_path, [line("G001", unknown, "400")]), actor="测试", county_code="340321")
    person = f.resident(name="后缴戊", id_no=unknown)
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    close(campaign)
    payment = s.payment_recheck(payment=Payment.objects.get(external_id="G001"), actor="测试")
    assert payment.flag == "not_accepted" and CLOSED in payment.flag_advice


# ---------------------------------------------------------------- who has paid hears so


PAID = "已于2024年10月8日缴纳2025年度居民医保费400元（现金，票据号 340321-2025-0000001），不能重复收款"


def test_a_second_payment_says_when_and_on_which_receipt_not_what_is_owed(today, client, make_user):
    f.campaign()
    person = f.person(name="已缴甲")
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    cli = runner.invoke(app, ["pay", "--id-number", person.id_number, "--year", "2025", "--amount", "350",
                              "--channel", "cash"])
    assert cli.exit_code != 0 and PAID in cli.output and "应缴" not in cli.output
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    api = client.post("/api/collection/counter-payments", {"resident_ids": [person.pk], "channel": "cash", "amount": "350"},
                      content_type="application/json")
    assert api.status_code == 400 and PAID in api.json()["detail"] and "应缴" not in api.json()["detail"]
    page = client.post("/collection/counter/pay/", {"residents": [person.pk], "channel": "cash", "amount": "350"})
    assert page.status_code == 400 and PAID in page.content.decode()
    assert Payment.objects.count() == 1


def test_dues_of_a_paid_person_show_the_payment_not_an_amount_owed(today, client, make_user):
    f.campaign()
    person = f.person(name="已缴乙")
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    member = client.get(f"/api/collection/residents/{person.pk}/dues").json()["members"][0]
    assert member["payable"] is None and member["can_pay"] is False
    assert member["reason"] == f"已缴乙{PAID}。" and member["receipt_no"] == "340321-2025-0000001"
    assert member["benefit_start"] == "2025-01-01"


def test_the_top_up_offer_and_recheck_say_the_person_has_paid(today, client, make_user, tmp_path):
    f.campaign()
    person = f.person(name="已缴丙")
    payment = under_paid(tmp_path, person)
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    client.force_login(make_user("zhen", role="township_officer", region_code=f.VILLAGE[:9]))
    page = client.get(f"/collection/payments/{payment.pk}/").content.decode()
    assert f"已缴丙{PAID.replace('，不能重复收款', '')}，本笔少缴款项请办理退费。" in page and "须补缴" not in page
    with pytest.raises(s.PaymentError, match="已于2024年10月8日缴纳.*票据号 340321-2025-0000001"):
        s.payment_top_up(payment=payment, channel="cash", actor="测试")


def test_recheck_of_a_paid_person_names_the_receipt(today, tmp_path):
    f.campaign()
    region_tree()
    unknown = f.id_number("340321")
    payments_ingest(path=write_csv(tmp_path, [line("D001", unknown, "400")]), actor="测试", county_code="340321")
    person = f.resident(name="后缴丁", id_no=unknown)
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    payment = s.payment_recheck(payment=Payment.objects.get(external_id="D001"), actor="测试")
    assert payment.flag == "duplicate"
    assert payment.flag_advice == ("该人员已于2024年10月8日缴纳2025年度居民医保费400元（现金，票据号 340321-2025-0000001），"
                                   "本笔400元为重复缴费，请办理退费。")


# ---------------------------------------------------------------- an unknown county


UNKNOWN = "未找到县级区划 999999"


def test_the_ingest_service_refuses_an_unknown_county_up_front(tmp_path):
    from yibao.collection.ingest import IngestError
    from yibao.core.models import Job

    f.campaign()
    path = write_csv(tmp_path, [line("X001", f.person(), "400")])
    with pytest.raises(IngestError, match=UNKNOWN):
        payments_ingest(path=path, actor="测试", county_code="999999")
    with pytest.raises(s.PaymentError, match=UNKNOWN):
        s.payment_file_job_create(path=path, actor="测试", county_code="999999")
    assert not Payment.objects.exists() and not Job.objects.exists()


def test_cli_ingest_refuses_an_unknown_county(tmp_path):
    from yibao.core.models import Job

    f.campaign()
    path = write_csv(tmp_path, [line("X002", f.person(), "400")])
    result = runner.invoke(app, ["ingest", "payments", str(path), "--county", "999999", "--json"])
    assert result.exit_code != 0 and UNKNOWN in result.output and result.stdout == ""
    assert not Job.objects.exists() and not Payment.objects.exists()


def test_api_and_page_refuse_an_unknown_county_before_keeping_the_file(client, make_user, tmp_path, settings):
    from yibao.core.models import Job

    f.campaign()
    path = write_csv(tmp_path, [line("X003", f.person(), "400")])
    client.force_login(make_user("shui", role="tax_officer", region_code="340321"))
    with open(path, "rb") as fh:
        api = client.post("/api/collection/payment-files", {"file": fh, "county_code": "999999"})
    assert api.status_code == 400 and UNKNOWN in api.json()["detail"]
    with open(path, "rb") as fh:
        page = client.post("/collection/ingest/", {"file": fh, "county_code": "999999"})
    assert page.status_code == 400 and UNKNOWN in page.content.decode()
    assert not Job.objects.exists() and not Payment.objects.exists()
    assert not list((settings.MEDIA_ROOT / "collection").glob("**/*.csv"))


# ---------------------------------------------------------------- counties by name


def test_a_line_for_a_year_not_opened_names_the_county_not_its_code(tmp_path):
    """"怀远县尚未开启2024年度征缴", not "340321县尚未开启…": messages name a county as users know it."""
    from yibao.imports.reports import report_read
    from yibao.regions.models import Region

    f.campaign()
    person = f.person(name="未开甲")
    Region.objects.filter(code="340321").update(name="怀远县")
    result = payments_ingest(path=write_csv(tmp_path, [line("N001", person, "380", year="2024")]), actor="测试",
                             county_code="340321", report_path=tmp_path / "report.xlsx")
    assert result["rejected"] == 1
    reasons = [r["原因"] for r in report_read(result["report"]) if r["sheet"].startswith("错误")]
    assert reasons == ["怀远县尚未开启2024年度征缴，不能入账；请县医保局先开启征缴年度后重新导入"]

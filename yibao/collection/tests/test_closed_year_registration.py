"""A closed year still registers whom its policy accepts after the window under a late rule (新生儿,
退役军人, 刑满释放 …), on every path (counter, channel file, 重新匹配, the 参保登记 page), and nobody
else: the booking gate and the quote decide, not a rule of their own."""

import datetime as dt

import pytest

from yibao.collection import services as s
from yibao.collection.ingest import payments_ingest
from yibao.collection.models import Payment
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.services import (
    EnrollmentError,
    campaign_close,
    enrollment_register,
)
from yibao.registry.models import GroupFact

pytestmark = pytest.mark.django_db
SUIXIAN_VILLAGE = "421321100001"
SUIXIAN_LATE = "2023年度城乡居民医保费已过缴费期"


@pytest.fixture
def suixian(settings):
    """随县 2023, closed; the business day is 2023-02-10, after the window (2022-09-01 to 2022-12-31)."""
    settings.YIBAO_TODAY = "2023-02-10"
    campaign = f.campaign(county="421321", policy_id="hubei-suixian-2023")
    campaign_close(campaign=campaign, actor="测试", reason="征缴结束")
    return Campaign.objects.get(pk=campaign.pk)


def member(name, birth=dt.date(1980, 5, 17), group=None, event=None, village=SUIXIAN_VILLAGE):
    person = f.resident(village=village, name=name, birth=birth, relation="儿子" if group == "newborn" else "户主")
    if group:
        GroupFact.objects.create(county_code=person.county_code, resident=person, group=group, event_date=event)
    return person


def test_the_counter_registers_a_newborn_born_after_the_close(suixian):
    baby = member("新生甲", birth=dt.date(2023, 1, 20), group="newborn", event=dt.date(2023, 1, 20))
    payment = s.payment_collect(residents=[baby], channel="cash", actor="测试", benefit_year=2023).payments[0]
    assert payment.status == "booked" and payment.rule == "newborn_within_90_days" and payment.amount == 0
    assert payment.benefit_start == dt.date(2023, 1, 20)  # cover from birth, as the quote says
    enrollment = Enrollment.objects.get(resident=baby)
    assert enrollment.status == "paid" and enrollment.benefit_start == dt.date(2023, 1, 20)


def test_the_counter_still_refuses_an_ordinary_person_after_the_close(suixian):
    adult = member("普通乙")
    with pytest.raises(s.PaymentError, match=f"普通乙.*不予受理：{SUIXIAN_LATE}"):
        s.payment_collect(residents=[adult], channel="cash", actor="测试", benefit_year=2023)
    assert not Enrollment.objects.exists() and not Payment.objects.exists()


def test_the_registration_page_follows_the_same_decision(suixian):
    baby = member("新生丙", birth=dt.date(2023, 1, 25), group="newborn", event=dt.date(2023, 1, 25))
    assert enrollment_register(resident=baby, campaign=suixian, actor="测试").status == "registered"
    adult = member("普通丁")
    with pytest.raises(EnrollmentError, match=f"2023年度征缴已结束，不能再办理参保登记（{SUIXIAN_LATE}"):
        enrollment_register(resident=adult, campaign=suixian, actor="测试")
    born_in_window = member("新生戊", birth=dt.date(2022, 12, 1), group="newborn")
    with pytest.raises(EnrollmentError, match="2022年12月20日的缴费不再入账"):  # a day inside the window: the gate
        enrollment_register(resident=born_in_window, campaign=suixian, actor="测试", on=dt.date(2022, 12, 20))
    assert list(Enrollment.objects.values_list("resident__name", flat=True)) == ["新生丙"]


def test_a_channel_line_registers_a_veteran_after_the_close_and_refuses_an_ordinary_person(suixian, tmp_path):
    veteran = member("退役己", group="veteran", event=dt.date(2023, 1, 20))
    adult = member("普通庚")
    path = write_csv(tmp_path, [line("V001", veteran, "350", year="2023", when="2023-02-09 10:00:00"),
                                line("V002", adult, "350", year="2023", when="2023-02-09 11:00:00")])
    result = payments_ingest(path=path, actor="测试", county_code="421321")
    assert result["booked"] == 1 and result["flagged"] == 1 and result["flagged_by_kind"]["not_accepted"] == 1
    booked = Payment.objects.get(external_id="V001")
    assert booked.status == "booked" and booked.rule == "mid_year_groups_within_90_days"
    assert Enrollment.objects.get(resident=veteran).status == "paid"
    assert EnrollmentClaim.objects.filter(id_number=veteran.id_number).exists()
    refused = Payment.objects.get(external_id="V002")
    assert refused.flag == "not_accepted" and refused.flag_advice.startswith(f"不予受理：{SUIXIAN_LATE}")
    assert not Enrollment.objects.filter(resident=adult).exists()


def test_recheck_registers_a_late_newcomer_only_under_a_late_rule(suixian, tmp_path):
    from yibao.enrollment.tests.factories import region_tree

    region_tree("421321", "421321100", SUIXIAN_VILLAGE)
    veteran_id, adult_id = f.id_number("421321"), f.id_number("421321")
    path = write_csv(tmp_path, [line("R001", veteran_id, "350", year="2023", when="2023-02-09 10:00:00"),
                                line("R002", adult_id, "350", year="2023", when="2023-02-09 10:00:00")])
    payments_ingest(path=path, actor="测试", county_code="421321")
    veteran = f.resident(village=SUIXIAN_VILLAGE, name="后登记辛", id_no=veteran_id)
    GroupFact.objects.create(county_code="421321", resident=veteran, group="veteran", event_date=dt.date(2023, 1, 20))
    f.resident(village=SUIXIAN_VILLAGE, name="后登记壬", id_no=adult_id)
    booked = s.payment_recheck(payment=Payment.objects.get(external_id="R001"), actor="测试")
    assert booked.status == "booked" and Enrollment.objects.get(resident=veteran).status == "paid"
    refused = s.payment_recheck(payment=Payment.objects.get(external_id="R002"), actor="测试")
    assert refused.flag == "not_accepted" and SUIXIAN_LATE in refused.flag_advice
    assert Enrollment.objects.count() == 1


def test_huaiyuan_registers_a_newborn_after_the_close_from_birth(settings):
    """怀远 2025 after its window: a newborn is accepted under the newborn rule (cover from birth)."""
    settings.YIBAO_TODAY = "2025-01-15"
    campaign = f.campaign()
    campaign_close(campaign=campaign, actor="测试", reason="征缴结束")
    baby = f.resident(name="怀远新生", birth=dt.date(2025, 1, 5), relation="儿子")
    GroupFact.objects.create(county_code="340321", resident=baby, group="newborn", event_date=dt.date(2025, 1, 5))
    payment = s.payment_collect(residents=[baby], channel="cash", actor="测试", benefit_year=2025).payments[0]
    assert payment.status == "booked" and payment.rule == "newborn_within_90_days"
    assert payment.benefit_start == dt.date(2025, 1, 5) and Enrollment.objects.get(resident=baby).status == "paid"


def test_huaiyuan_refuses_registration_once_its_late_rules_end(settings):
    """怀远 accepts late payment only up to the end of 2025: on 2026-01-05 the closed year registers nobody."""
    settings.YIBAO_TODAY = "2026-01-05"
    campaign = f.campaign()
    campaign_close(campaign=campaign, actor="测试", reason="征缴结束")
    adult = f.person(name="年后甲")
    with pytest.raises(s.PaymentError, match="年后甲.*不予受理"):
        s.payment_collect(residents=[adult], channel="cash", actor="测试", benefit_year=2025)
    with pytest.raises(EnrollmentError, match="2025年度征缴已结束，不能再办理参保登记（"):
        enrollment_register(resident=adult, campaign=Campaign.objects.get(pk=campaign.pk), actor="测试")
    assert not Enrollment.objects.exists()


def test_the_counter_page_offers_a_closed_year_after_its_window_to_whom_the_late_rules_accept(suixian, client, make_user):
    """No year is open: after the window the counter still serves the closed year, and the quote says who may pay."""
    baby = member("新生癸", birth=dt.date(2023, 1, 28), group="newborn", event=dt.date(2023, 1, 28))
    adult = member("普通子")
    client.force_login(make_user("cun", role="village_collector", region_code=SUIXIAN_VILLAGE))
    dues = client.get(f"/api/collection/residents/{baby.pk}/dues").json()
    assert dues["benefit_year"] == 2023 and dues["members"][0]["can_pay"] is True
    assert dues["members"][0]["payable"] == "0.00"
    refused = client.get(f"/api/collection/residents/{adult.pk}/dues").json()["members"][0]
    assert refused["can_pay"] is False and SUIXIAN_LATE in refused["reason"]
    page = client.get(f"/collection/counter/residents/{baby.pk}/").content.decode()
    assert 'id="pay-button"' in page and "征缴已结束，当前没有征缴中的年度" not in page
    booked = s.payment_collect(residents=[baby], channel="cash", actor="测试").payments[0]  # no year given
    assert booked.benefit_year == 2023 and booked.rule == "newborn_within_90_days"

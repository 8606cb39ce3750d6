"""Reconciliation runs against the database, and cash handovers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yibao.core.clock import business_today
from yibao.core.models import Event, Job
from yibao.reconciliation import services
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun
from yibao.reconciliation.tests import factories as f
from yibao.registry.tests.factories import make_id

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 11, 30)
D = dt.date(2024, 10, 8)


@pytest.fixture
def collector(make_user):
    return make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")


@pytest.fixture
def township_officer(make_user):
    return make_user("town", role="township_officer", region_code=f.TOWN, display_name="镇经办")


@pytest.fixture
def wang(make_user):
    return make_user("wang", role="village_collector", region_code=f.VILLAGE_2, display_name="王收款")


@pytest.fixture
def scene(tmp_path, collector, township_officer, wang):
    """Every kind of mismatch once, plus rows that agree."""
    campaign = f.world()
    s = {"campaign": campaign}
    people = {n: f.person(name=n, village=v) for n, v in
              (("甲", f.VILLAGE), ("乙", f.VILLAGE), ("丙", f.VILLAGE_2), ("丁", f.VILLAGE), ("戊", f.VILLAGE),
               ("己", f.VILLAGE_3), ("庚", f.VILLAGE), ("辛", f.VILLAGE), ("壬", f.VILLAGE))}
    s["people"] = people
    cash = {"source": "counter", "channel": "cash", "collector": collector, "collector_name": "李征收"}
    s["ok_file"] = f.payment(campaign, people["甲"])
    s["ok_counter"] = f.payment(campaign, people["乙"], external_id="CTR-1", paid_on=dt.date(2024, 10, 2), **cash)
    f.receipt([s["ok_counter"]])
    s["amount"] = f.payment(campaign, people["丙"], amount="380.00")
    s["person"] = f.payment(campaign, people["丁"])
    s["unpaid"] = f.payment(campaign, people["戊"], paid_on=dt.date(2024, 10, 3), **cash)  # not in tax, no receipt
    s["refunded"] = f.payment(campaign, people["己"], status="refunded", source="counter", channel="pos",
                              collector_name="河溜收款员")
    s["refunded_receipt"] = f.receipt([s["refunded"]], issued_by="河溜收款员")
    s["voided"] = f.payment(campaign, people["庚"], paid_on=dt.date(2024, 10, 2), **cash)
    f.receipt([s["voided"]], voided=True)
    s["handover"] = services.handover_record(
        actor=township_officer, village_code=f.VILLAGE, benefit_year=f.YEAR, collector=collector,
        period_start=dt.date(2024, 10, 1), period_end=dt.date(2024, 10, 2), handed_on=dt.date(2024, 10, 4),
        amount="700.00",
    )
    s["over"] = services.handover_record(
        actor=township_officer, village_code=f.VILLAGE_2, benefit_year=f.YEAR, collector_name="王收款",
        period_start=dt.date(2024, 10, 5), period_end=dt.date(2024, 10, 6), handed_on=dt.date(2024, 10, 7),
        amount="100.00",
    )
    unknown = make_id("340321", dt.date(1990, 1, 1))
    s["unknown"] = unknown
    rows = [
        f.tax_row(s["ok_file"]),
        f.tax_row(s["ok_counter"], 缴费流水号="SW-77"),  # the bureau's own id: pairs by person and amount
        f.tax_row(s["amount"], **{"实缴金额（元）": "400.00"}),
        f.tax_row(s["person"], 缴费人证件号码=people["辛"].id_number),
        f.tax_row(s["voided"]),
        f.tax_row(s["refunded"]),
        f.tax_row(None, 缴费人证件号码=unknown, 缴费流水号="SW-90"),
        f.tax_row(None, 缴费人证件号码=people["壬"].id_number, 缴费流水号="SW-91", 缴费渠道="现金"),
    ]
    s["tax_path"] = f.tax_file(tmp_path / "税务缴费明细.csv", rows)
    s["tax_rows"] = rows
    return s


def run(s, actor="测试", as_of=AS_OF, path=None):
    job, result = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=path or s["tax_path"],
                                   as_of=as_of, actor=actor)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return result


def by_kind(result):
    found = {}
    for m in result.mismatches.order_by("pk"):
        found.setdefault(m.kind, []).append(m)
    return found


def test_every_kind_is_found_with_who_must_fix_it(scene, wang):
    result = run(scene)
    found = by_kind(result)
    assert {k: len(v) for k, v in found.items()} == {
        "paid_not_booked": 2, "booked_not_paid": 1, "amount_differs": 1, "person_differs": 1,
        "receipt_without_payment": 1, "payment_without_receipt": 2, "cash_short": 2, "cash_over": 1,
    }
    assert result.counts == {k: len(found.get(k, [])) for k in Mismatch.Kind.values}
    assert result.mismatch_total == 11

    unknown, cash_in_village = found["paid_not_booked"]
    assert (unknown.responsible, unknown.responsible_name, unknown.village_code) == ("yibao", "医保经办", "")
    assert "查无此身份证号码" in unknown.detail and unknown.tax_row == 8
    assert (cash_in_village.responsible, cash_in_village.responsible_name) == ("township", "乡镇（城关镇）")
    assert cash_in_village.village_code == f.VILLAGE and cash_in_village.person_name == "壬"
    assert "补登记" in cash_in_village.action

    unpaid = found["booked_not_paid"][0]
    assert (unpaid.payment_id, unpaid.responsible, unpaid.responsible_name) == (scene["unpaid"].pk, "collector", "村征收员 李征收")
    assert unpaid.yibao_amount == Decimal("400.00") and unpaid.tax_amount is None and unpaid.difference == Decimal("400.00")
    assert "随收随缴" in unpaid.action

    amount = found["amount_differs"][0]
    assert (amount.responsible, amount.tax_amount, amount.yibao_amount, amount.difference) == (
        "tax", Decimal("400.00"), Decimal("380.00"), Decimal("-20.00"))
    assert amount.detail == f"税务 400.00元，医保入账 380.00元，相差 20.00元（流水号 {scene['amount'].external_id}）"
    assert amount.village_code == f.VILLAGE_2 and amount.township_code == f.TOWN

    person = found["person_differs"][0]
    assert (person.id_number, person.other_id_number) == (scene["people"]["辛"].id_number, scene["person"].id_number)

    refunded = found["receipt_without_payment"][0]
    assert (refunded.receipt_id, refunded.responsible_name) == (scene["refunded_receipt"].pk, "村征收员 河溜收款员")
    assert "已退费" in refunded.detail and refunded.village_code == f.VILLAGE_3

    unreceipted = {m.payment_id for m in found["payment_without_receipt"]}
    assert unreceipted == {scene["unpaid"].pk, scene["voided"].pk}  # a voided receipt is no receipt
    assert all(m.responsible_name == "村征收员 李征收" and "白条" in m.action for m in found["payment_without_receipt"])

    shorts = {m.key.split(":")[-1]: m for m in found["cash_short"]}
    # 10-01..10-02: 800 taken (乙, 庚), 700 handed over
    period = shorts["2024-10-02"]
    assert (period.yibao_amount, period.tax_amount, period.difference) == (Decimal("800.00"), Decimal("700.00"), Decimal("100.00"))
    assert period.responsible_name == "村征收员 李征收" and "100.00元" in period.action
    # 戊's 400 of 10-03 is in no handover period and overdue by 11-30
    assert shorts["open"].yibao_amount == Decimal("400.00") and shorts["open"].period_start == dt.date(2024, 10, 3)
    over = found["cash_over"][0]
    assert (over.collector_key, over.tax_amount, over.yibao_amount) == (f"u{wang.pk}", Decimal("100.00"), Decimal("0.00"))
    assert over.responsible == "township"


def test_run_records_inputs_totals_and_an_event(scene):
    result = run(scene)
    assert result.as_of == AS_OF and result.ran_on == business_today() and result.created_by_name == "测试"
    assert result.tax_file_name == "税务缴费明细.csv" and len(result.tax_file_sha256) == 64
    tax = result.inputs["tax"]
    assert (tax["rows"], tax["used"], tax["rejected"], tax["format"]) == (8, 8, 0, "csv")
    assert result.inputs["bookings"]["rows"] == 7 and len(result.inputs["bookings"]["sha256"]) == 64
    assert result.inputs["receipts"]["rows"] == 2  # the voided one is left out
    assert result.totals["tax"] == "3200.00"
    assert result.totals["booked"] == "2780.00"
    assert result.totals["cash_collected"] == "1200.00" and result.totals["cash_handed_over"] == "800.00"
    event = Event.objects.get(entity="reconciliation_run", entity_id=str(result.pk))
    assert event.action == "run" and event.after["counts"]["cash_short"] == 2 and event.actor_name == "测试"


def test_rerun_shows_what_changed_since_the_previous_run(scene, township_officer):
    first = run(scene)
    # fix two things: 戊's payment reaches the tax bureau, and the short cash is handed over
    rows = scene["tax_rows"] + [f.tax_row(scene["unpaid"])]
    path = f.tax_file(scene["tax_path"].parent / "第二次.csv", rows)
    services.handover_record(
        actor=township_officer, village_code=f.VILLAGE, benefit_year=f.YEAR, collector_name="李征收",
        collector=scene["handover"].collector, period_start=dt.date(2024, 10, 1), period_end=dt.date(2024, 10, 2),
        handed_on=dt.date(2024, 10, 9), amount="100.00",
    )
    second = run(scene, path=path)
    assert second.previous_id == first.pk
    changes = second.changes
    assert changes["resolved_by_kind"] == {"booked_not_paid": 1, "cash_short": 1}
    assert changes["new"] == 0 and changes["resolved"] == 2 and changes["persisting"] == 9
    assert changes["inputs"]["tax_file_changed"] and not changes["inputs"]["bookings_changed"]
    assert changes["inputs"]["handovers_changed"] and changes["inputs"]["tax_rows"] == 1
    persisting = second.mismatches.get(kind="amount_differs")
    assert persisting.first_seen_run_id == first.pk  # the age of a mismatch carries over
    # a third run with nothing changed: same digests, nothing new or resolved
    third = run(scene, path=path)
    assert third.changes["new"] == third.changes["resolved"] == 0
    assert not third.changes["inputs"]["bookings_changed"] and not third.changes["inputs"]["tax_file_changed"]
    assert ReconciliationRun.objects.count() == 3


def test_as_of_leaves_out_later_payments_on_both_sides(scene):
    result = run(scene, as_of=dt.date(2024, 10, 4))
    # only the payments up to 10-04 and the tax rows up to 10-04 take part
    assert result.inputs["bookings"]["rows"] == 3  # 乙 10-02, 戊 10-03, 庚 10-02
    assert result.inputs["tax"]["after_as_of"] == 6
    # 戊's cash of 10-03 is due by 10-04 with one day's grace: not yet overdue on 10-04, overdue on 10-05
    assert not result.mismatches.filter(kind="cash_short", key__endswith=":open").exists()
    assert result.totals["cash_pending"] == "400.00"
    later = run(scene, as_of=dt.date(2024, 10, 5))
    assert later.mismatches.get(kind="cash_short", key__endswith=":open").yibao_amount == Decimal("400.00")


def test_rejected_tax_row_is_reported_and_hinted(scene):
    rows = scene["tax_rows"] + [f.tax_row(scene["unpaid"], **{"实缴金额（元）": "四百"})]
    path = f.tax_file(scene["tax_path"].parent / "有错.csv", rows)
    result = run(scene, path=path)
    assert result.inputs["tax"]["rejected"] == 1 and result.error_report_path.endswith(".xlsx")
    unpaid = result.mismatches.get(kind="booked_not_paid")
    assert "第10行流水号相同，但该行有错误" in unpaid.detail
    job = Job.objects.get(pk=result.job_id)
    assert job.report_path == result.error_report_path and job.result["rejected"] == 1


def test_unreadable_tax_file_fails_the_job_with_a_chinese_message(scene, tmp_path):
    path = tmp_path / "坏.csv"
    path.write_text("姓名,备注\n张三,无\n", encoding="utf-8")
    job, result = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=path, as_of=AS_OF, actor="测试")
    assert result is None and job.status == Job.Status.FAILED
    assert job.message.startswith("税务缴费记录文件无法读取：缺少必需的列")
    assert not ReconciliationRun.objects.exists()


def test_run_parameters_are_checked(scene, make_user):
    with pytest.raises(ValidationError, match="尚未开启征缴"):
        services.run_job_create(county_code=f.COUNTY, benefit_year=2030, tax_file=scene["tax_path"])
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.run_job_create(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=scene["tax_path"],
                                as_of=dt.date.today() + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="找不到"):
        services.run_job_create(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file="/nonexistent.csv")
    clerk = make_user("town2", role="township_officer", region_code=f.TOWN)
    with pytest.raises(PermissionDenied):
        services.run_job_create(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=scene["tax_path"], actor=clerk)
    other = make_user("tax_other", role="tax_officer", region_code="421223")
    with pytest.raises(PermissionDenied):
        services.run_job_create(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=scene["tax_path"], actor=other)


def test_everything_agrees_gives_an_empty_run(tmp_path, collector):
    campaign = f.world()
    a = f.person(name="甲")
    p = f.payment(campaign, a, source="counter", channel="cash", collector=collector, collector_name="李征收")
    f.receipt([p])
    CashHandover.objects.create(
        county_code=f.COUNTY, township_code=f.TOWN, village_code=f.VILLAGE, benefit_year=f.YEAR, collector=collector,
        collector_name="李征收", period_start=D, period_end=D, handed_on=D, amount=Decimal("400.00"),
        received_by_name="镇经办",
    )
    path = f.tax_file(tmp_path / "t.csv", [f.tax_row(p)])
    job, result = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=path, as_of=AS_OF, actor="测试")
    assert result.mismatch_total == 0 and result.totals["matched"] == "400.00"


# ---------------------------------------------------------------- cash handovers


def handover(actor, **over):
    values = {"actor": actor, "village_code": f.VILLAGE, "benefit_year": f.YEAR, "collector_name": "李征收",
              "period_start": dt.date(2024, 10, 1), "period_end": dt.date(2024, 10, 5), "handed_on": dt.date(2024, 10, 6),
              "amount": "1200.50"}
    values.update(over)
    return services.handover_record(**values)


def test_handover_is_recorded_with_an_event(township_officer, collector):
    f.world()
    h = handover(township_officer, note="第一周")
    assert (h.county_code, h.township_code, h.amount, h.received_by_name) == (f.COUNTY, f.TOWN, Decimal("1200.50"), "镇经办")
    event = Event.objects.get(entity="cash_handover", entity_id=str(h.pk))
    assert event.after["amount"] == "1200.50" and event.actor_id == township_officer.pk and event.reason == "第一周"


@pytest.mark.parametrize("over, field, message", [
    ({"amount": "-1"}, "amount", "不能为负数"),
    ({"amount": "1.005"}, "amount", "最多两位小数"),
    ({"amount": "abc"}, "amount", "应为数字"),
    ({"period_end": dt.date(2024, 9, 30)}, "period_end", "不能早于"),
    ({"handed_on": dt.date(2024, 10, 4)}, "handed_on", "不能早于收款期间止"),
    ({"handed_on": dt.date.today() + dt.timedelta(days=2), "period_end": dt.date.today()}, "handed_on", "不能晚于今天"),
    ({"benefit_year": 2031}, "benefit_year", "尚未开启征缴"),
    ({"village_code": "340321100099"}, "village_code", "不存在"),
    ({"collector_name": " "}, "collector", "请选择"),
])
def test_handover_checks(township_officer, collector, over, field, message):
    f.world()
    with pytest.raises(ValidationError) as caught:
        handover(township_officer, **over)
    assert message in " ".join(caught.value.message_dict[field])
    assert not CashHandover.objects.exists()


def test_handover_periods_of_one_collector_may_repeat_but_not_cross(township_officer, collector, wang):
    f.world()
    handover(township_officer)
    handover(township_officer, amount="100")  # the same period again: a second instalment
    handover(township_officer, collector_name="王收款", village_code=f.VILLAGE_2, period_start=dt.date(2024, 10, 3))
    with pytest.raises(ValidationError, match="部分重叠"):
        handover(township_officer, period_start=dt.date(2024, 10, 5), period_end=dt.date(2024, 10, 6),
                 handed_on=dt.date(2024, 10, 7))
    assert CashHandover.objects.count() == 3


def test_a_handover_named_by_display_name_or_username_is_linked_to_the_account(tmp_path, township_officer, collector):
    campaign = f.world()
    p = f.payment(campaign, f.person(name="甲"), source="counter", channel="cash", collector=collector,
                  collector_name="李征收", paid_on=D)
    f.receipt([p])
    by_name = handover(township_officer, collector_name="李征收", period_start=D, period_end=D, handed_on=D, amount="400.00")
    assert by_name.collector_id == collector.pk and by_name.collector_name == "李征收"
    by_username = handover(township_officer, collector_name="li", period_start=D, period_end=D, handed_on=D, amount="0")
    assert by_username.collector_id == collector.pk
    event = Event.objects.get(entity="cash_handover", entity_id=str(by_name.pk))
    assert event.after["collector_key"] == f"u{collector.pk}"
    path = f.tax_file(tmp_path / "t.csv", [f.tax_row(p)])
    _job, result = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=path, as_of=AS_OF, actor="测试")
    assert result.mismatch_total == 0  # no 现金短款 for 李征收, no 现金长款 for a phantom 李征收


def test_a_handover_whose_collector_cannot_be_resolved_is_refused(make_user, township_officer, collector):
    campaign = f.world()
    with pytest.raises(ValidationError) as caught:
        handover(township_officer, collector_name="张无名")
    assert "找不到征收员“张无名”" in caught.value.message_dict["collector"][0]
    make_user("li2", role="village_collector", region_code=f.VILLAGE_2, display_name="李征收")
    with pytest.raises(ValidationError) as caught:
        handover(township_officer)  # 李征收 now names two accounts of the county
    assert "本县有 2 个账号的姓名为“李征收”（li、li2），请填写账号名" in caught.value.message_dict["collector"][0]
    assert handover(township_officer, collector_name="li2", village_code=f.VILLAGE_2).collector.username == "li2"
    outsider = make_user("far", role="village_collector", region_code="421223100001", display_name="外县人")
    with pytest.raises(ValidationError, match="不是本县"):
        handover(township_officer, collector_name="far")
    with pytest.raises(ValidationError, match="不是本县"):
        handover(make_user("admin", role="county_admin", region_code=f.COUNTY), collector=outsider)
    assert CashHandover.objects.count() == 1
    # a collector without an account is accepted under the name their counter cash carries
    f.payment(campaign, f.person(), source="counter", channel="cash", collector_name="张无名")
    assert handover(township_officer, collector_name="张无名").collector_id is None


def test_a_handover_names_an_account_that_takes_cash_in_the_village(tmp_path, make_user, township_officer, collector, wang):
    """An account that cannot take counter cash in the village would match no payment there: the
    handover would show as 现金长款 (a phantom) while the real collector shows 现金短款. Refused."""
    campaign = f.world()
    admin = make_user("admin", role="county_admin", region_code=f.COUNTY)
    tax = make_user("tax", role="tax_officer", region_code=f.COUNTY, display_name="税务李")
    for who, over in (
        (township_officer, {"collector_name": "wang"}),  # 西村's collector for 东村
        (township_officer, {"collector": wang}),
        (admin, {"collector_name": "税务李"}),  # a tax officer takes no counter cash
        (admin, {"collector": make_user("aud", role="auditor", region_code=f.COUNTY)}),
        (admin, {"collector": make_user("mz", role="department_clerk", region_code=f.COUNTY, department="minzheng")}),
    ):
        with pytest.raises(ValidationError) as caught:
            handover(who, **over)
        assert "不在村（社区）340321100001 窗口收款" in caught.value.message_dict["collector"][0]
    assert not CashHandover.objects.exists()
    # those who take cash there: the village's collector, a township officer of the town, the county
    assert handover(admin, collector=collector).collector_id == collector.pk
    assert handover(admin, collector=township_officer, period_start=D, period_end=D, handed_on=D).pk
    assert handover(tax, collector=admin, period_start=D, period_end=D, handed_on=D).pk
    # and one who did take counter cash in the village this year (a collector since moved elsewhere)
    p = f.payment(campaign, f.person(name="甲"), source="counter", channel="cash", collector=wang,
                  collector_name="王收款", paid_on=dt.date(2024, 10, 9))
    f.receipt([p])
    moved = handover(township_officer, collector=wang, period_start=dt.date(2024, 10, 9),
                     period_end=dt.date(2024, 10, 9), handed_on=dt.date(2024, 10, 9), amount="400.00")
    assert moved.collector_id == wang.pk


def test_a_handover_by_name_may_not_cross_one_by_account(township_officer, collector):
    f.world()
    first = handover(township_officer, collector=collector)
    with pytest.raises(ValidationError, match="部分重叠"):
        handover(township_officer, collector_name="李征收", period_start=dt.date(2024, 10, 5),
                 period_end=dt.date(2024, 10, 6), handed_on=dt.date(2024, 10, 7))
    services.handover_void(actor=township_officer, handover=first, reason="期间填错")
    assert handover(township_officer, collector_name="李征收", period_start=dt.date(2024, 10, 5),
                    period_end=dt.date(2024, 10, 6), handed_on=dt.date(2024, 10, 7)).pk  # voided: no longer in the way


def test_a_handover_is_voided_on_the_business_day(township_officer, collector, settings):
    from django.utils import timezone

    f.world()
    h = handover(township_officer)
    settings.YIBAO_TODAY = "2024-10-20"
    services.handover_void(actor=township_officer, handover=h, reason="金额填错")
    h.refresh_from_db()
    assert timezone.localtime(h.voided_at).date() == dt.date(2024, 10, 20)


def test_who_may_record_a_handover(make_user, collector, township_officer):
    f.world()
    with pytest.raises(PermissionDenied, match="接收现金"):
        handover(collector)  # the collector is the one handing over
    with pytest.raises(PermissionDenied):
        handover(make_user("aud", role="auditor", region_code=f.COUNTY))
    other_town = make_user("town9", role="township_officer", region_code=f.TOWN_2)
    with pytest.raises(PermissionDenied, match="管辖范围"):
        handover(other_town)
    admin = make_user("admin", role="county_admin", region_code=f.COUNTY)
    with pytest.raises(ValidationError, match="不能登记自己的交款"):
        handover(admin, collector=admin)
    assert handover(make_user("tax", role="tax_officer", region_code=f.COUNTY)).pk
    assert handover(township_officer, amount="1").pk


def test_voided_handover_no_longer_counts(scene, township_officer):
    services.handover_void(actor=township_officer, handover=scene["handover"], reason="金额登记错误")
    scene["handover"].refresh_from_db()
    assert scene["handover"].voided_by_name == "镇经办" and scene["handover"].void_reason == "金额登记错误"
    assert Event.objects.filter(entity="cash_handover", entity_id=str(scene["handover"].pk), action="void").exists()
    result = run(scene)
    shorts = result.mismatches.filter(kind="cash_short", collector_key=f"u{scene['handover'].collector_id}")
    assert shorts.count() == 1 and shorts.get().yibao_amount == Decimal("1200.00")  # all of 李征收's cash is open
    with pytest.raises(ValidationError, match="已作废"):
        services.handover_void(actor=township_officer, handover=scene["handover"], reason="再次")
    with pytest.raises(ValidationError, match="作废原因"):
        services.handover_void(actor=township_officer, handover=scene["over"], reason=" ")


def test_receipt_without_any_line_names_its_issue_day_and_collector(tmp_path):
    campaign = f.world()
    p = f.payment(campaign, f.person(), source="counter", channel="pos", collector_name="李征收")
    f.receipt([p])
    empty = f.receipt([p], lines=False, total="400.00", issued_by="张开票")  # a receipt with nothing on it
    path = f.tax_file(tmp_path / "t.csv", [f.tax_row(p)])
    _job, result = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=path, as_of=AS_OF, actor="测试")
    m = result.mismatches.get()
    assert (m.kind, m.receipt_id, m.receipt_no, m.paid_on) == ("receipt_without_payment", empty.pk, empty.receipt_no, D)
    assert m.responsible_name == "村征收员 张开票" and m.tax_amount == Decimal("400.00") and m.yibao_amount == 0
    assert m.detail == f"票据 {empty.receipt_no} 票面 400.00元，但没有任何缴费明细"


def test_a_run_is_dated_on_the_business_day(scene, settings):
    """A training deployment that runs a past campaign dates its runs on its business day, so the
    twice-a-month check counts them in the campaign's months."""
    settings.YIBAO_TODAY = "2024-12-05"
    assert run(scene).ran_on == dt.date(2024, 12, 5)

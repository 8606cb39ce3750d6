"""`yibao pay --household H --members …` (one receipt for chosen members) and `yibao top-up` (补缴差额)."""

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection.models import Payment, Receipt
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_booking_gate import close, under_paid
from yibao.core.models import Event

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def today(settings):
    settings.YIBAO_TODAY = "2024-10-08"


def test_pay_for_chosen_members_of_a_household_books_each_on_one_receipt(today):
    f.campaign()
    home, head, spouse, child = f.family()
    result = run("pay", "--household", home.number, "--members", f"{head.id_number},{child.pk}", "--year", 2025,
                 "--channel", "cash", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["booked"] == 2 and {p["name"] for p in data["payments"]} == {head.name, child.name}
    receipt = Receipt.objects.get()
    assert receipt.receipt_no == data["receipt_no"] and receipt.household_id == home.pk and receipt.lines.count() == 2
    assert Decimal(str(data["total"])) == receipt.total == sum(p.amount for p in Payment.objects.all())
    assert not Payment.objects.filter(resident=spouse).exists()
    assert Event.objects.filter(entity="payment", action="booked").count() == 2
    assert Event.objects.filter(entity="receipt", action="issued").count() == 1
    text = run("pay", "--household", home.number, "--members", spouse.id_number, "--year", 2025, "--channel", "现金")
    assert text.exit_code == 0 and "票据号 340321-2025-0000002，合计 400.00元（现金）" in text.stdout


def test_a_second_household_payment_changes_nothing(today):
    f.campaign()
    home, head, spouse, child = f.family()
    args = ("pay", "--household", home.number, "--members", f"{head.id_number},{spouse.id_number}", "--year", 2025,
            "--channel", "cash")
    assert run(*args).exit_code == 0
    events = Event.objects.count()
    again = run(*args)
    assert again.exit_code == 2 and head.name in again.output, again.output
    assert Receipt.objects.count() == 1 and Payment.objects.count() == 2 and Event.objects.count() == events


@pytest.mark.parametrize("args, message", [
    (("--household", "H999", "--members", "{head}"), "未找到户号"),
    (("--household", "H001"), "须与 --members 同用"),
    (("--household", "H001", "--members", "{other}"), "不是户号 H001 的成员"),
    (("--household", "H001", "--members", "{head},{head}"), "同一人员不能在一次收款中出现两次"),
    (("--household", "H001", "--members", "{head}", "--amount", "1"), "与应缴金额400元不符"),
    (("--household", "H001", "--id-number", "{head}", "--members", "{head}"), "二者选一"),
])
def test_pay_household_bad_input_exit_2(today, args, message):
    f.campaign()
    home, head, spouse, child = f.family()
    other = f.person(name="外人")
    args = [a.replace("{head}", head.id_number).replace("{other}", other.id_number) for a in args]
    result = run("pay", "--year", 2025, "--channel", "cash", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not Payment.objects.exists()


def test_pay_as_a_user_outside_the_region_is_refused(today, make_user):
    f.campaign()
    home, head, *_ = f.family()
    make_user("elsewhere", role="village_collector", region_code=f.OTHER_VILLAGE)
    make_user("here", role="village_collector", region_code=f.VILLAGE)
    refused = run("pay", "--household", home.number, "--members", head.id_number, "--year", 2025, "--channel", "cash",
                  "--user", "elsewhere")
    assert refused.exit_code == 2 and "未找到户号" in refused.output
    done = run("pay", "--household", home.number, "--members", head.id_number, "--year", 2025, "--channel", "cash",
               "--user", "here")
    assert done.exit_code == 0, done.output
    assert Payment.objects.get().collector.username == "here"


def test_top_up_by_serial_books_the_rest_and_a_second_run_changes_nothing(today, tmp_path):
    f.campaign()
    person = f.person(name="补差甲")
    payment = under_paid(tmp_path, person)
    result = run("top-up", payment.external_id, "--channel", "cash", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 100 and data["receipt_no"]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.BOOKED
    assert Payment.objects.filter(status=Payment.Status.TOPUP, top_up_of=payment).count() == 1
    events = Event.objects.count()
    again = run("top-up", str(payment.pk), "--channel", "cash")
    assert again.exit_code == 2 and "只有标记为“少缴”的缴费才能补缴差额" in again.output
    assert Event.objects.count() == events and Receipt.objects.count() == 1


@pytest.mark.parametrize("args, message", [
    (("S404", "--channel", "cash"), "未找到缴费记录"),
    (("S001", "--channel", "支票"), "未知的收款方式"),
    (("S001", "--channel", "cash", "--amount", "50"), "与今日应补100元不符"),
])
def test_top_up_bad_input_exit_2(today, tmp_path, args, message):
    f.campaign()
    under_paid(tmp_path, f.person(name="补差乙"))
    result = run("top-up", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert Payment.objects.get().status == Payment.Status.FLAGGED


def test_top_up_into_a_closed_year_is_refused_by_the_gate(today, tmp_path):
    f.campaign()
    payment = under_paid(tmp_path, f.person(name="补差丙"))
    close()
    result = run("top-up", payment.external_id, "--channel", "cash")
    assert result.exit_code == 2 and "征缴已结束" in result.output

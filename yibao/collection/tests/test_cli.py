"""`yibao pay`, `yibao ingest payments`, `yibao refund …`, `yibao receipt pdf`, `yibao subsidy-refund …`."""

import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection.models import Payment, Receipt, Refund, SubsidyRefund
from yibao.collection.receipts import pdf_texts
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.enrollment.models import Enrollment

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def today(settings):
    settings.YIBAO_TODAY = "2024-10-08"


def test_pay_json_books_and_prints_counts_payment_and_receipt(today):
    f.campaign()
    person = f.person(name="命令行甲", identities=["dibao"])
    result = run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", "60", "--channel", "现金", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["booked"], data["flagged"], data["rejected"]) == (1, 0, 0)
    assert data["receipt_no"] == "340321-2025-0000001" and data["total"] == 60 and data["channel"] == "cash"
    payment = data["payments"][0]
    assert payment["amount"] == 60 and payment["benefit_start"] == "2025-01-01" and payment["name"] == "命令行甲"
    assert Payment.objects.get().paid_on.isoformat() == "2024-10-08"


def test_pay_with_the_wrong_amount_fails_in_chinese(today):
    f.campaign()
    person = f.person(name="命令行乙")
    result = run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", "300", "--channel", "cash")
    assert result.exit_code != 0
    assert "收款金额300元与应缴金额400元不符" in result.output
    assert not Payment.objects.exists()


@pytest.mark.parametrize("args, message", [
    (("--id-number", "340321198005171231", "--amount", "400", "--channel", "cash"), "身份证号码无效"),
    (("--id-number", "{id}", "--amount", "abc", "--channel", "cash"), "--amount 应为金额"),
    (("--id-number", "{id}", "--amount", "400", "--channel", "支票"), "未知的收款方式：支票"),
    (("--id-number", "{id}", "--amount", "400", "--channel", "bank"), "窗口收款方式只能是"),
])
def test_pay_bad_input(today, args, message):
    f.campaign()
    person = f.person()
    args = [a.replace("{id}", person.id_number) for a in args]
    result = run("pay", "--year", 2025, *args)
    assert result.exit_code != 0 and message in result.output


def test_pay_twice_fails_naming_the_person(today):
    f.campaign()
    person = f.person(name="命令行丙")
    assert run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "wechat").exit_code == 0
    again = run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "wechat")
    assert again.exit_code != 0 and "命令行丙" in again.output and "不能重复收款" in again.output


def test_ingest_payments_json_counts_and_repeat(tmp_path):
    f.campaign()
    a, b = f.person(name="文件甲"), f.person(name="文件乙", identities=["dibao"])
    path = write_csv(tmp_path, [line("F1", a, "400"), line("F2", b, "400"), line("F3", "bad-id", "400")])
    result = run("ingest", "payments", path, "--json", "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["booked"] == 1 and data["flagged"] == 1 and data["flagged_by_kind"]["over"] == 1
    assert data["rejected"] == 1 and data["unchanged"] == 0 and data["report"].endswith(".xlsx")
    assert data["county_code"] == "340321" and data["rows"] == 3
    again = json.loads(run("ingest", "payments", path, "--json", "--quiet").stdout)
    assert (again["booked"], again["flagged"], again["unchanged"]) == (0, 0, 2)
    assert Payment.objects.count() == 2


def test_ingest_payments_bad_file_exits_non_zero(tmp_path):
    f.person()  # the county is known (its regions are loaded): the file itself is what fails
    path = tmp_path / "x.csv"
    path.write_text("随便,什么\n1,2\n", encoding="utf-8")
    result = run("ingest", "payments", path, "--county", "340321", "--quiet")
    assert result.exit_code != 0 and "找不到表头行" in result.output
    assert run("ingest", "payments", tmp_path / "none.csv").exit_code != 0


def test_refund_request_approve_book_and_list(today):
    f.campaign()
    person = f.person(name="退费甲")
    run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "cash")
    result = run("refund", "request", "--id-number", person.id_number, "--year", 2025, "--reason", "参加职工医保", "--json")
    assert result.exit_code == 0, result.output
    refund = json.loads(result.stdout)
    assert refund["status"] == "requested" and refund["amount"] == 400 and refund["enrollment_action"] == "terminate"
    assert json.loads(run("refund", "approve", refund["refund_id"], "--json").stdout)["status"] == "approved"
    booked = json.loads(run("refund", "book", refund["refund_id"], "--json").stdout)
    assert booked["status"] == "booked"
    assert Enrollment.objects.get(resident=person).status == "terminated"
    listed = json.loads(run("refund", "list", "--json").stdout)
    assert listed["count"] == 1 and listed["refunds"][0]["name"] == "退费甲"
    assert run("refund", "book", refund["refund_id"]).exit_code != 0


def test_refund_after_benefits_began_is_refused(settings):
    f.campaign()
    person = f.person(name="退费乙")
    settings.YIBAO_TODAY = "2024-10-08"
    run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "cash")
    settings.YIBAO_TODAY = "2025-03-01"
    result = run("refund", "request", "--id-number", person.id_number, "--year", 2025, "--reason", "death")
    assert result.exit_code != 0 and "个人缴费不再退回" in result.output
    assert not Refund.objects.exists()
    assert run("refund", "request", "--id-number", person.id_number, "--year", 2025, "--reason", "搬家").exit_code != 0


def test_receipt_pdf_second_time_is_bu_da(today, tmp_path):
    f.campaign()
    person = f.person(name="票据甲")
    run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "cash")
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert run("receipt", "pdf", "340321-2025-0000001", "--out", first).exit_code == 0
    assert run("receipt", "pdf", "340321-2025-0000001", "--out", second).exit_code == 0
    assert "补打" not in pdf_texts(first.read_bytes()) and "补打" in pdf_texts(second.read_bytes())
    assert Receipt.objects.get().prints == 2
    assert run("receipt", "pdf", "nope", "--out", first).exit_code != 0


def test_subsidy_refund_list_approve_pay(today, tmp_path):
    f.campaign()
    person = f.person(name="优抚甲", identities=["entitled_group"])
    run("pay", "--id-number", person.id_number, "--year", 2025, "--amount", 400, "--channel", "cash")
    listed = json.loads(run("subsidy-refund", "list", "--county", "340321", "--json", "--export", tmp_path / "x.xlsx").stdout)
    assert listed["count"] == 1 and listed["townships"] == [{"township_code": "340321100", "count": 1, "total": 400}]
    entry = listed["entries"][0]["id"]
    assert run("subsidy-refund", "pay", entry).exit_code != 0  # must be approved first
    assert json.loads(run("subsidy-refund", "approve", entry, "--json").stdout) == {"updated": 1}
    assert json.loads(run("subsidy-refund", "pay", entry, "--json").stdout) == {"updated": 1}
    assert SubsidyRefund.objects.get().status == "paid"
    assert (tmp_path / "x.xlsx").read_bytes().startswith(b"PK")


def test_year_options_out_of_range_are_refused_in_chinese():
    from typer.testing import CliRunner

    from yibao.cli import app

    result = CliRunner().invoke(app, ["pay", "--id-number", "34032119800517123X", "--year", "99999", "--amount", "400",
                                      "--channel", "现金"])
    assert result.exit_code == 2
    assert "--year 待遇年度应为 1990–2100 之间的年份，收到：99999" in result.output

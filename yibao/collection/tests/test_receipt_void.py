"""Voiding (作废) a receipt: taken back after a refund, or replaced (换开) when printed wrong."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from yibao.collection import services as s
from yibao.collection.models import Receipt, ReceiptLine, ReceiptSeries
from yibao.collection.tests import factories as f
from yibao.collection.tests.sheet import confirm_post
from yibao.core.models import Event

pytestmark = pytest.mark.django_db


def household_paid():
    f.campaign()
    home, head, spouse, child = f.family()
    result = s.payment_collect(residents=[head, spouse, child], channel="cash", actor="测试收款员", household=home,
                               paid_at=f.at("2024-10-08"))
    return result.receipt, result.payments


def refund(payment):
    request = s.refund_request(payment=payment, reason="death", actor="村收款员", on=dt.date(2024, 12, 20))
    s.refund_approve(refund=request, actor="县医保局")
    s.refund_book(refund=request, actor="县税务局")


def test_a_receipt_whose_payments_were_all_refunded_is_voided_with_an_event():
    f.campaign()
    person = f.person()
    result = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    refund(result.payments[0])
    assert s.receipt_void(receipt=result.receipt, actor="乡镇经办", reason="已退费，收回原票据") is None
    receipt = Receipt.objects.get(pk=result.receipt.pk)
    assert receipt.voided_at is not None and receipt.void_reason == "已退费，收回原票据"
    event = Event.objects.get(entity="receipt", entity_id=str(receipt.pk), action="voided")
    assert event.actor_name == "乡镇经办" and event.reason == "已退费，收回原票据"
    assert event.before["lines"] == [{"payment": result.payments[0].pk, "name": person.name, "amount": "400.00",
                                      "status": "refunded"}]
    assert ReceiptSeries.objects.get().next_number == 2  # no new number taken
    with pytest.raises(s.PaymentError, match="已于 .* 作废（已退费，收回原票据），不能重复作废"):
        s.receipt_void(receipt=receipt, actor="乡镇经办", reason="再来一次")


def test_a_receipt_still_in_force_is_not_voided_alone():
    receipt, payments = household_paid()
    with pytest.raises(s.PaymentError, match="所含 3 人（.*）的缴费仍然有效.*白条"):
        s.receipt_void(receipt=receipt, actor="乡镇经办", reason="姓名打错")
    with pytest.raises(s.PaymentError, match="请填写作废原因"):
        s.receipt_void(receipt=receipt, actor="乡镇经办", reason="  ", reissue=True)
    receipt.refresh_from_db()
    assert receipt.voided_at is None and not Event.objects.filter(action="voided").exists()


def test_void_and_reissue_moves_the_payments_in_force_to_a_new_number():
    receipt, payments = household_paid()
    refund(payments[2])
    replacement = s.receipt_void(receipt=receipt, actor="乡镇经办", reason="缴款人姓名有误", reissue=True)
    assert replacement.receipt_no == "340321-2025-0000002" and replacement.total == Decimal("800.00")
    assert replacement.payer_name == receipt.payer_name and replacement.channel == "cash"
    assert replacement.issued_by_name == "乡镇经办" and replacement.household_id == receipt.household_id
    moved = set(ReceiptLine.objects.filter(receipt=replacement).values_list("payment_id", flat=True))
    assert moved == {payments[0].pk, payments[1].pk}
    assert list(ReceiptLine.objects.filter(receipt=receipt).values_list("payment_id", flat=True)) == [payments[2].pk]
    voided = Event.objects.get(entity="receipt", entity_id=str(receipt.pk), action="voided")
    assert voided.after["replaced_by"] == replacement.receipt_no and len(voided.before["lines"]) == 3
    issued = Event.objects.get(entity="receipt", entity_id=str(replacement.pk), action="issued")
    assert issued.after["replaces"] == receipt.receipt_no and "换开票据" in issued.reason


def test_a_voided_receipts_pdf_shows_its_original_lines_marked_void_the_reason_day_and_new_number(settings):
    from yibao.collection.receipts import pdf_texts

    receipt, payments = household_paid()
    refund(payments[2])
    settings.YIBAO_TODAY = "2024-12-21"
    replacement = s.receipt_void(receipt=receipt, actor="乡镇经办", reason="缴款人姓名有误", reissue=True)
    pdf, _reprint = s.receipt_print(receipt=Receipt.objects.get(pk=receipt.pk), actor="打印员")
    assert pdf.startswith(b"%PDF")
    texts = pdf_texts(pdf)
    joined = " ".join(texts)
    for line in ReceiptLine.objects.filter(payment__in=payments).select_related("payment"):
        assert line.name in joined  # every person the receipt was issued for, not an empty receipt
    assert texts.count("作废") == 1 + 3  # the stamp, and each of the three lines
    assert "合计：¥1,200.00" in joined and "壹仟贰佰元整" in joined
    for needed in ("作废日期：2024-12-21", "作废原因：缴款人姓名有误", f"换开至票据 {replacement.receipt_no}",
                   "本票据已作废"):
        assert needed in joined, needed
    new_pdf, _ = s.receipt_print(receipt=replacement, actor="打印员")
    new_texts = " ".join(pdf_texts(new_pdf))
    assert f"换开原票据 {receipt.receipt_no}" in new_texts and "作废" not in new_texts
    assert payments[2].resident.name not in new_texts  # the refunded person stays on the voided one only


def test_a_reissued_receipt_names_the_collector_who_took_the_money_and_who_reissued_it(client, make_user):
    from yibao.collection.receipts import pdf_texts

    receipt, payments = household_paid()  # taken by 测试收款员
    replacement = s.receipt_void(receipt=receipt, actor="乡镇经办", reason="缴款人姓名有误", reissue=True)
    joined = " ".join(pdf_texts(s.receipt_print(receipt=replacement, actor="打印员")[0]))
    assert "收款人：测试收款员" in joined and "收款人：乡镇经办" not in joined
    assert f"换开原票据 {receipt.receipt_no}（换开人：乡镇经办）" in joined
    voided = " ".join(pdf_texts(s.receipt_print(receipt=Receipt.objects.get(pk=receipt.pk), actor="打印员")[0]))
    assert "收款人：测试收款员" in voided
    client.force_login(make_user("town", role="township_officer", region_code=replacement.township_code))
    page = client.get(f"/collection/receipts/{replacement.pk}/").content.decode()
    assert '<dd data-field="collector">测试收款员</dd>' in page and "<dt>开票人</dt><dd>乡镇经办</dd>" in page


def test_a_receipt_taken_back_after_refund_prints_as_voided_without_a_new_number():
    from yibao.collection.receipts import pdf_texts

    f.campaign()
    person = f.person()
    result = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    refund(result.payments[0])
    s.receipt_void(receipt=result.receipt, actor="乡镇经办", reason="已退费，收回原票据")
    s.receipt_print(receipt=result.receipt, actor="打印员")  # the first print is not a reprint either way
    pdf, reprint = s.receipt_print(receipt=Receipt.objects.get(pk=result.receipt.pk), actor="打印员")
    texts = pdf_texts(pdf)
    assert reprint and "补打" not in texts  # the 作废 stamp stands in its place
    joined = " ".join(texts)
    assert person.name in joined and "400.00" in joined and texts.count("作废") == 2
    assert "未换开：所含缴费均已退费，票据收回" in joined and "作废原因：已退费，收回原票据" in joined


def test_voiding_needs_the_capability_and_the_area(make_user):
    receipt, _payments = household_paid()
    collector = make_user("cun", role="village_collector", region_code=f.VILLAGE)
    with pytest.raises(PermissionDenied, match="作废、换开票据"):
        s.receipt_void(receipt=receipt, actor=collector, reason="误开", reissue=True)
    other = make_user("other", role="township_officer", region_code="340321101")
    with pytest.raises(PermissionDenied):
        s.receipt_void(receipt=receipt, actor=other, reason="误开", reissue=True)
    town = make_user("town", role="township_officer", region_code=f.VILLAGE[:9])
    assert s.receipt_void(receipt=receipt, actor=town, reason="误开", reissue=True) is not None


# ---------------------------------------------------------------- page, API and CLI


def test_the_receipt_page_voids_and_reissues_and_shows_the_record(client, make_user):
    receipt, payments = household_paid()
    collector = make_user("cun", role="village_collector", region_code=f.VILLAGE)
    client.force_login(collector)
    assert 'id="void-receipt"' not in client.get(f"/collection/receipts/{receipt.pk}/").content.decode()
    assert client.post(f"/collection/receipts/{receipt.pk}/void/", {"reason": "误开"}).status_code == 403
    client.force_login(make_user("town", role="township_officer", region_code=f.VILLAGE[:9]))
    page = client.get(f"/collection/receipts/{receipt.pk}/").content.decode()
    assert 'id="void-receipt"' in page and "本票据中 3 人的缴费仍然有效" in page
    refused = client.post(f"/collection/receipts/{receipt.pk}/void/", {"reason": "误开"}, follow=True)
    assert "白条" in refused.content.decode() and Receipt.objects.filter(voided_at__isnull=True).count() == 1
    done = confirm_post(client, f"/collection/receipts/{receipt.pk}/void/", {"reason": "缴款人姓名有误", "reissue": "1"})
    replacement = Receipt.objects.get(voided_at__isnull=True)
    assert done.status_code == 302 and done["Location"] == f"/collection/receipts/{replacement.pk}/"
    assert f"已换开新票据 {replacement.receipt_no}" in client.get(done["Location"]).content.decode()
    old = client.get(f"/collection/receipts/{receipt.pk}/").content.decode()
    assert 'data-field="voided"' in old and "缴款人姓名有误" in old and replacement.receipt_no in old
    assert 'id="print-receipt"' not in old and 'id="void-receipt"' not in old


def test_the_api_voids_a_receipt_and_explains_a_refusal(client, make_user):
    receipt, payments = household_paid()
    client.force_login(make_user("tax", role="tax_officer", region_code="340321"))
    url = f"/api/collection/receipts/{receipt.pk}/void"
    refused = client.post(url, {"reason": "误开"}, content_type="application/json")
    assert refused.status_code == 400 and "白条" in refused.json()["detail"]
    body = client.post(url, {"reason": "误开", "reissue": True}, content_type="application/json").json()
    assert body["receipt_no"] == receipt.receipt_no and body["void_reason"] == "误开"
    assert body["replacement_no"] == "340321-2025-0000002" and body["replacement_total"] == "1200.00"
    again = client.post(url, {"reason": "误开", "reissue": True}, content_type="application/json")
    assert again.status_code == 400 and "不能重复作废" in again.json()["detail"]


def test_the_cli_voids_a_refunded_receipt(db):
    import json

    from typer.testing import CliRunner

    from yibao.cli import app

    f.campaign()
    person = f.person()
    result = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    runner = CliRunner()
    kept = runner.invoke(app, ["receipt", "void", result.receipt.receipt_no, "--reason", "误开", "--json"])
    assert kept.exit_code == 2 and "缴费仍然有效" in kept.stderr
    refund(result.payments[0])
    done = runner.invoke(app, ["receipt", "void", result.receipt.receipt_no, "--reason", "已退费，收回", "--json"])
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"receipt_no": result.receipt.receipt_no, "voided": True,
                                       "void_reason": "已退费，收回", "replacement_no": None, "replacement_total": None}
    missing = runner.invoke(app, ["receipt", "void", "340321-2025-9999999", "--reason", "x"])
    assert missing.exit_code == 2 and "没有票据号为" in missing.stderr

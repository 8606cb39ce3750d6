"""CLI commands of the collection area (`yibao pay` and `yibao top-up` are in cli/counter.py):
`yibao ingest payments`, `yibao refund …`,
`yibao receipt pdf|void`, `yibao subsidy-refund …`. A thin shell over yibao.collection.services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail, fail_unless_succeeded, year_option

ingest_app = typer.Typer(help="导入渠道缴费明细（税务局、银行）", no_args_is_help=True)
refund_app = typer.Typer(help="退费：申请、审批、驳回、退款入账、列表", no_args_is_help=True)
receipt_app = typer.Typer(help="票据：导出 PDF（补打）、作废与换开", no_args_is_help=True)
subsidy_app = typer.Typer(help="先缴后补名单：列表、审核、发放、导出", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
QUIET = typer.Option(False, "--quiet", "-q", help="不显示进度条")
FLAG_LABELS = {"unknown_person": "查无此人", "duplicate": "重复缴费", "blocked": "参保受限", "not_accepted": "不予受理",
               "under": "少缴", "over": "多缴"}


def _money(text: str, option: str) -> Decimal:
    try:
        value = Decimal(str(text).replace(",", "").replace("元", "").strip())
    except InvalidOperation:
        fail(f"{option} 应为金额（元），收到：{text}")
    if value != value.quantize(Decimal("0.01")) or value < 0:
        fail(f"{option} 应为不小于0、最多两位小数的金额，收到：{text}")
    return value.quantize(Decimal("0.01"))


def _channel(text: str) -> str:
    from yibao.collection.models import Payment
    from yibao.collection.selectors import COUNTER_CHANNELS

    value = (text or "").strip()
    for code, label in Payment.Channel.choices:
        if value in (code, label) or (code == "pos" and value.upper() == "POS"):
            return code
    names = "、".join(f"{Payment.Channel(c).label}（{c}）" for c in COUNTER_CHANNELS)
    fail(f"未知的收款方式：{value}。窗口收款可选：{names}。")


def _resident(id_number: str, county: str | None):
    from yibao.core.idnumber import InvalidIdNumber, check_id_number
    from yibao.registry.models import Resident
    from yibao.regions.selectors import county_label

    try:
        number = check_id_number(id_number).number
    except InvalidIdNumber as exc:
        fail(f"--id-number 身份证号码无效：{exc}")
    found = Resident.objects.filter(id_number=number)
    if county:
        found = found.filter(county_code=county)
    people = list(found[:3])
    if not people:
        fail(f"户籍名单中没有身份证号码 {number}{f'（{county_label(county)}）' if county else ''}。")
    if len(people) > 1:
        fail(f"身份证号码 {number} 在多个县登记（{'、'.join(p.county_code for p in people)}），请用 --county 指定。")
    return people[0]


@ingest_app.command("payments")
def ingest_payments(
    file: Path = typer.Argument(..., help="缴费明细 CSV（UTF-8 或 GBK）或 xlsx", dir_okay=False),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码；不指定时按文件中的身份证号码判断"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
):
    """导入税务局、银行的缴费明细：金额相符的入账，其余标记待处理，字段错误的行写入错误报告。"""
    django_setup()
    from yibao.collection.services import PaymentError, payment_file_job_create
    from yibao.core.jobs import job_run
    from yibao.core.progress import RichProgress

    if not file.exists():
        fail(f"找不到文件：{file}")
    try:
        job = payment_file_job_create(path=file.resolve(), file_name=file.name, county_code=county, actor=cli_actor())
    except PaymentError as exc:
        fail(str(exc))
    with RichProgress("导入渠道缴费明细", enabled=not quiet) as bar:
        job = job_run(job, bar)
    fail_unless_succeeded(job, "导入")
    r = job.result
    out = {k: r.get(k) for k in ("rows", "booked", "flagged", "flagged_by_kind", "unchanged", "rejected", "warnings",
                                  "report", "county_code")}
    out["job"] = job.pk
    if as_json:
        emit_json(out)
        return
    kinds = "，".join(f"{FLAG_LABELS[k]} {n}" for k, n in r["flagged_by_kind"].items() if n)
    typer.echo(f"缴费明细（任务 #{job.pk}，{r['county_code']} 县）：共 {r['rows']} 行，入账 {r['booked']}，"
               f"待处理 {r['flagged']}{f'（{kinds}）' if kinds else ''}，已入账未变 {r['unchanged']}，拒绝 {r['rejected']}。")
    if r.get("report"):
        typer.echo(f"报告：{r['report']}")


@ingest_app.command("recheck")
def ingest_recheck_command(
    external_id: str = typer.Argument(..., help="缴费流水号"),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码（流水号在多个县都有时）"),
    as_json: bool = JSON,
):
    """重新匹配一笔未入账的渠道缴费（查无此人、参保受限、不予受理、少缴）：符合条件即入账，否则写明现在的原因。"""
    django_setup()
    from yibao.collection.models import Payment
    from yibao.collection.services import PaymentError, payment_recheck

    found = list(Payment.objects.filter(external_id=external_id.strip(), **({"county_code": county} if county else {}))[:2])
    if not found:
        fail(f"没有缴费流水号为 {external_id} 的缴费记录。")
    if len(found) > 1:
        fail(f"缴费流水号 {external_id} 在多个县都有，请用 --county 指定县。")
    try:
        payment = payment_recheck(payment=found[0], actor=cli_actor())
    except PaymentError as exc:
        fail(str(exc))
    out = {"external_id": payment.external_id, "status": payment.status, "flag": payment.flag,
           "advice": payment.flag_advice, "booked": payment.status == "booked",
           "benefit_start": payment.benefit_start, "benefit_end": payment.benefit_end}
    if as_json:
        emit_json(out)
        return
    if out["booked"]:
        typer.echo(f"已入账：缴费流水号 {payment.external_id}，待遇享受期 {payment.benefit_start} 至 {payment.benefit_end}。")
    else:
        typer.echo(f"仍未入账（{payment.get_flag_display()}）：{payment.flag_advice}")


# ---------------------------------------------------------------- refunds


def _refund_json(refund) -> dict:
    return {
        "refund_id": refund.pk, "status": refund.status, "status_label": refund.get_status_display(),
        "reason": refund.reason, "reason_label": refund.get_reason_display(), "amount": refund.amount,
        "enrollment_action": refund.enrollment_action, "payment_id": refund.payment_id,
        "external_id": refund.payment.external_id, "name": refund.person_label, "id_number": refund.payment.id_number,
        "benefit_year": refund.benefit_year, "note": refund.note,
    }


def _refund(refund_id: int):
    from yibao.collection.models import Refund

    refund = Refund.objects.select_related("payment", "resident").filter(pk=refund_id).first()
    if refund is None:
        fail(f"没有编号为 {refund_id} 的退费申请。")
    return refund


@refund_app.command("request")
def refund_request_command(
    id_number: Optional[str] = typer.Option(None, "--id-number", help="参保人身份证号码"),
    year: Optional[int] = typer.Option(None, "--year", callback=year_option, help="待遇年度"),
    reason: str = typer.Option(..., "--reason", help="death 死亡、duplicate_payment 重复缴费、joined_employee_insurance "
                                                     "参加职工医保、joined_other_city_insurance 参加其他地市居民医保、overpaid 多缴、"
                                                     "unbooked 未入账款项退还"),
    external_id: Optional[str] = typer.Option(None, "--external-id", help="缴费流水号（查无此人等未入账的缴费用它指定）"),
    action: Optional[str] = typer.Option(None, "--action", help="参保关系处理：suspend 暂停 或 terminate 终止（默认按原因）"),
    payment_id: Optional[int] = typer.Option(None, "--payment", help="缴费记录编号（一人有多笔缴费时）"),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码"),
    note: str = typer.Option("", "--note", help="说明"),
    as_json: bool = JSON,
):
    """申请退费（待遇享受期开始前；多缴、重复缴费和未入账的款项随时可退）。"""
    django_setup()
    from yibao.collection.models import Payment
    from yibao.collection.services import PaymentError, refund_reason_code

    try:
        code = refund_reason_code(reason)
    except PaymentError as exc:
        fail(str(exc))
    if external_id:
        found = list(Payment.objects.filter(external_id=external_id.strip(), **({"county_code": county} if county else {}))[:2])
        if not found:
            fail(f"没有缴费流水号为 {external_id} 的缴费记录。")
        if len(found) > 1:
            fail(f"缴费流水号 {external_id} 在多个县都有，请用 --county 指定县。")
        _refund_request_emit(found[0], code, action, note, as_json)
        return
    if not id_number or not year:
        fail("请给出 --id-number 和 --year，或用 --external-id 指定缴费流水号。")
    resident = _resident(id_number, county)
    payments = Payment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=year)
    if payment_id:
        payments = payments.filter(pk=payment_id)
    elif code == "overpaid":
        payments = payments.filter(status="flagged", flag="over")
    elif code == "duplicate_payment" and payments.filter(status="flagged", flag="duplicate").exists():
        payments = payments.filter(status="flagged", flag="duplicate")
    elif code == "unbooked":
        payments = payments.filter(status="flagged", flag__in=["blocked", "not_accepted", "under"])
    else:
        payments = payments.filter(status="booked")
    found = list(payments.order_by("paid_at")[:2])
    if not found:
        fail(f"{resident.name} 没有可退费的{year}年度缴费记录。")
    if len(found) > 1:
        fail(f"{resident.name} 有多笔{year}年度缴费，请用 --payment 指定缴费记录编号（{found[0].pk}、{found[1].pk}…）。")
    _refund_request_emit(found[0], code, action, note, as_json)


def _refund_request_emit(payment, code: str, action, note: str, as_json: bool) -> None:
    from yibao.collection.services import PaymentError, refund_request

    try:
        refund = refund_request(payment=payment, reason=code, actor=cli_actor(), enrollment_action=action, note=note)
    except PaymentError as exc:
        fail(str(exc))
    if as_json:
        emit_json(_refund_json(refund))
        return
    typer.echo(f"已申请退费 #{refund.pk}：{refund.person_label} {refund.benefit_year}年度 {refund.amount}元"
               f"（{refund.get_reason_display()}，{refund.get_enrollment_action_display()}），待审批。")


def _refund_step(refund_id: int, as_json: bool, step: str, note: str = ""):
    django_setup()
    from yibao.collection import services

    refund = _refund(refund_id)
    try:
        if step == "approve":
            refund = services.refund_approve(refund=refund, actor=cli_actor(), note=note)
        elif step == "reject":
            refund = services.refund_reject(refund=refund, actor=cli_actor(), note=note)
        else:
            refund = services.refund_book(refund=refund, actor=cli_actor())
    except services.PaymentError as exc:
        fail(str(exc))
    refund = _refund(refund.pk)
    if as_json:
        emit_json(_refund_json(refund))
        return
    typer.echo(f"退费 #{refund.pk}：{refund.person_label} {refund.amount}元，{refund.get_status_display()}。")


@refund_app.command("approve")
def refund_approve_command(refund_id: int = typer.Argument(..., help="退费申请编号"),
                           note: str = typer.Option("", "--note", help="审批意见"), as_json: bool = JSON):
    """审批同意退费申请。"""
    _refund_step(refund_id, as_json, "approve", note)


@refund_app.command("reject")
def refund_reject_command(refund_id: int = typer.Argument(..., help="退费申请编号"),
                          note: str = typer.Option(..., "--note", help="驳回理由（必填）"), as_json: bool = JSON):
    """驳回退费申请（须写明理由）。"""
    _refund_step(refund_id, as_json, "reject", note)


@refund_app.command("book")
def refund_book_command(refund_id: int = typer.Argument(..., help="退费申请编号"), as_json: bool = JSON):
    """退款入账，同时暂停或终止参保关系。"""
    _refund_step(refund_id, as_json, "book")


@refund_app.command("list")
def refund_list_command(
    status: Optional[str] = typer.Option(None, "--status", help="requested、approved、rejected、booked"),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码"),
    year: Optional[int] = typer.Option(None, "--year", callback=year_option, help="待遇年度"),
    as_json: bool = JSON,
):
    """列出退费申请。"""
    django_setup()
    from yibao.collection.models import Refund

    if status and status not in Refund.Status.values:
        fail(f"未知的状态：{status}（可选 {'、'.join(Refund.Status.values)}）")
    rows = Refund.objects.select_related("payment", "resident").order_by("-requested_at", "-id")
    if status:
        rows = rows.filter(status=status)
    if county:
        rows = rows.filter(county_code=county)
    if year:
        rows = rows.filter(benefit_year=year)
    items = [_refund_json(r) for r in rows[:1000]]
    if as_json:
        emit_json({"count": len(items), "refunds": items})
        return
    if not items:
        typer.echo("没有退费申请。")
    for r in items:
        typer.echo(f"#{r['refund_id']}  {r['status_label']}  {r['name']}  {r['benefit_year']}年度  {r['amount']}元  "
                   f"{r['reason_label']}")


# ---------------------------------------------------------------- receipts


@receipt_app.command("pdf")
def receipt_pdf_command(
    receipt_no: str = typer.Argument(..., help="票据号，如 340321-2025-0000001"),
    out: Path = typer.Option(..., "--out", "-o", help="保存 PDF 的文件"),
):
    """导出票据 PDF（第二次起标注“补打”）。"""
    django_setup()
    from yibao.collection.models import Receipt
    from yibao.collection.services import receipt_print

    receipt = Receipt.objects.filter(county_code=receipt_no.strip()[:6], receipt_no=receipt_no.strip()).first()
    if receipt is None:
        fail(f"没有票据号为 {receipt_no} 的票据。")
    data, reprint = receipt_print(receipt=receipt, actor=cli_actor())
    out.write_bytes(data)
    typer.echo(f"已保存{'（补打）' if reprint else ''}：{out}", err=True)


@receipt_app.command("void")
def receipt_void_command(
    receipt_no: str = typer.Argument(..., help="票据号，如 340321-2025-0000001"),
    reason: str = typer.Option(..., "--reason", help="作废原因（必填）"),
    reissue: bool = typer.Option(False, "--reissue", help="所含缴费仍有效时，同时换开新票据"),
    as_json: bool = JSON,
):
    """作废票据（收回已退费的票据，或票面有误时作废并换开）。"""
    django_setup()
    from yibao.collection.models import Receipt
    from yibao.collection.services import PaymentError, receipt_void

    receipt = Receipt.objects.filter(county_code=receipt_no.strip()[:6], receipt_no=receipt_no.strip()).first()
    if receipt is None:
        fail(f"没有票据号为 {receipt_no} 的票据。")
    try:
        replacement = receipt_void(receipt=receipt, actor=cli_actor(), reason=reason, reissue=reissue)
    except PaymentError as exc:
        fail(str(exc))
    out = {"receipt_no": receipt.receipt_no, "voided": True, "void_reason": receipt.void_reason,
           "replacement_no": replacement.receipt_no if replacement else None,
           "replacement_total": replacement.total if replacement else None}
    if as_json:
        emit_json(out)
        return
    typer.echo(f"票据 {receipt.receipt_no} 已作废" + (f"，换开新票据 {replacement.receipt_no}（{replacement.total} 元）"
                                                        if replacement else "") + "。")


# ---------------------------------------------------------------- 先缴后补


@subsidy_app.command("list")
def subsidy_list_command(
    county: str = typer.Option(..., "--county", help="县级区划代码"),
    township: Optional[str] = typer.Option(None, "--township", help="乡镇（街道）区划代码"),
    year: Optional[int] = typer.Option(None, "--year", callback=year_option, help="待遇年度"),
    status: Optional[str] = typer.Option(None, "--status", help="pending、approved、paid、cancelled"),
    export: Optional[Path] = typer.Option(None, "--export", help="同时导出 xlsx 到此文件"),
    as_json: bool = JSON,
):
    """先缴后补名单：每个乡镇的人员、退补金额和合计。"""
    django_setup()
    from yibao.accounts.scope import Scope
    from yibao.collection.selectors import subsidy_refund_list, subsidy_refund_totals
    from yibao.collection.services import subsidy_refunds_export

    scope = Scope(role="county_admin", region_code=county)
    rows = subsidy_refund_list(scope=scope, township=township, benefit_year=year, status=status)
    if export:
        subsidy_refunds_export(rows=rows, path=export)
    totals = subsidy_refund_totals(rows)
    items = [{"id": r.pk, "township_code": r.township_code, "village_code": r.village_code, "name": r.resident.name,
              "id_number": r.resident.id_number, "benefit_year": r.benefit_year, "identity": r.identity,
              "amount": r.amount, "status": r.status} for r in rows[:5000]]
    if as_json:
        emit_json({"count": len(items), "townships": [{k: t[k] for k in ("township_code", "count", "total")} for t in totals],
                   "entries": items, "export": str(export) if export else None})
        return
    for t in totals:
        typer.echo(f"{t['township_code']}：{t['count']} 人，退补合计 {t['total']}元")
    for r in items:
        typer.echo(f"  #{r['id']} {r['name']} {r['amount']}元 {r['status']}")


def _subsidy_step(ids: list[int], step: str, as_json: bool):
    django_setup()
    from yibao.collection import services

    try:
        n = (services.subsidy_refunds_approve if step == "approve" else services.subsidy_refunds_pay)(
            ids=ids, actor=cli_actor())
    except services.PaymentError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"updated": n})
    else:
        typer.echo(f"已{'审核' if step == 'approve' else '发放'} {n} 条。")


@subsidy_app.command("approve")
def subsidy_approve_command(ids: list[int] = typer.Argument(..., help="名单记录编号"), as_json: bool = JSON):
    """乡镇审核先缴后补（待审核 → 已审核）。"""
    _subsidy_step(ids, "approve", as_json)


@subsidy_app.command("pay")
def subsidy_pay_command(ids: list[int] = typer.Argument(..., help="名单记录编号"), as_json: bool = JSON):
    """发放先缴后补退补款（已审核 → 已发放）。"""
    _subsidy_step(ids, "pay", as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(refund_app, name="refund")
    app.add_typer(receipt_app, name="receipt")
    app.add_typer(subsidy_app, name="subsidy-refund")

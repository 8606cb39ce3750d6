"""The receipt (票据) as a PDF: reportlab with an embedded subset of 文泉驿微米黑 (yibao.core.pdffonts).

One A5 page: the county series number, payer, one line per person with the benefit period, the
total in figures and in capitals, channel, collector and time. A reprint carries a 补打 stamp.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone

from yibao.core import pdffonts
from yibao.core.idnumber import mask_id_number
from yibao.core.money import rmb_upper  # lives in core.money; still importable from here

FONT = pdffonts.FONT


def _register_font() -> None:
    pdffonts.cjk_font()


def _money(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


VOID_MARK = "作废"


def receipt_collector(receipt, lines) -> str:
    """收款人: who took the money for the receipt's lines (the payments' collector), not who printed
    it. A receipt reissued (换开) by a township or county officer still names the collector."""
    names = list(dict.fromkeys(line.payment.collector_name for line in lines if line.payment.collector_name))
    return "、".join(names) or receipt.issued_by_name


def receipt_layout(
    *, receipt, lines, county_name: str, reprint: bool, print_no: int, void: dict | None = None, replaces: str = ""
) -> dict:
    """Everything the PDF shows, as text (tests read this; the PDF draws it).

    `void` ({reason, at, replaced_by}) prints a voided receipt as it was issued: its lines, each
    marked 作废, with the reason, the day and the number it was reissued (换开) under.
    `replaces` names the receipt a reissued one takes the place of.
    """
    issued = timezone.localtime(receipt.issued_at)
    rows = []
    for index, line in enumerate(lines, start=1):
        payment = line.payment
        period = (
            f"{payment.benefit_start:%Y-%m-%d} 至 {payment.benefit_end:%Y-%m-%d}"
            if payment.benefit_start and payment.benefit_end
            else ""
        )
        rows.append({
            "no": str(index), "name": line.name, "id": mask_id_number(payment.id_number),
            "amount": _money(line.amount), "period": period,
            "later": f"先缴后补 {_money(payment.refund_later)}" if payment.refund_later else "",
            "mark": VOID_MARK if void else "",
        })
    void_lines = []
    if void:
        void_lines = [
            f"作废日期：{timezone.localtime(void['at']):%Y-%m-%d}",
            f"作废原因：{void['reason']}",
            f"换开至票据 {void['replaced_by']}" if void["replaced_by"] else "未换开：所含缴费均已退费，票据收回",
        ]
    return {
        "title": "城乡居民基本医疗保险费收款票据",
        "subtitle": f"{county_name}  {receipt.benefit_year}年度",
        "receipt_no": receipt.receipt_no,
        "reprint": "补打" if reprint and not void else "",
        "print_note": f"第{print_no}次打印" if reprint and not void else "",
        "payer": receipt.payer_name,
        "household": receipt.household.number if receipt.household_id and receipt.household else "",
        "rows": rows,
        "total": _money(receipt.total),
        "total_upper": rmb_upper(receipt.total),
        "channel": receipt.get_channel_display(),
        "collector": receipt_collector(receipt, lines),
        "issued_at": f"{issued:%Y-%m-%d %H:%M:%S}",
        "voided": VOID_MARK if void or receipt.voided_at else "",
        "void_lines": void_lines,
        "replaces": f"换开原票据 {replaces}（换开人：{receipt.issued_by_name}）" if replaces else "",
        "footer": (
            "本票据已作废，不再作为收款凭证；有效票据以换开的新票据为准。" if void or receipt.voided_at else
            "本票据为城乡居民医保费收款凭证，款项已登记入账，请妥善保管。缴费信息可向村（社区）或乡镇（街道）核实。"
        ),
    }


def stamp_box(width: float, height: float) -> tuple[float, float, float, float]:
    """The 补打/作废 stamp's rectangle (x, y, w, h in points): the top right corner of the page, clear of
    the title (centred) and of the 开票时间 line below it (its baseline 29 mm from the top)."""
    mm = 72 / 25.4
    return width - 10 * mm - 24 * mm, height - 24.5 * mm, 24 * mm, 15 * mm


def receipt_pdf(layout: dict) -> bytes:
    from reportlab.lib.colors import Color, black
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    _register_font()
    buffer = io.BytesIO()
    width, height = A5
    pdf = canvas.Canvas(buffer, pagesize=A5, pageCompression=0)
    pdf.setTitle(f"票据 {layout['receipt_no']}")
    left, right = 10 * mm, width - 10 * mm

    def text(x, y, value, size=9, align="left"):
        pdf.setFont(FONT, size)
        if align == "center":
            pdf.drawCentredString(x, y, value)
        elif align == "right":
            pdf.drawRightString(x, y, value)
        else:
            pdf.drawString(x, y, value)

    y = height - 16 * mm
    text(width / 2, y, layout["title"], 13, "center")
    y -= 6 * mm
    text(width / 2, y, layout["subtitle"], 9, "center")
    y -= 7 * mm
    text(left, y, f"票据号：{layout['receipt_no']}", 9)
    text(right, y, f"开票时间：{layout['issued_at']}", 9, "right")
    y -= 5 * mm
    payer = f"缴款人：{layout['payer']}"
    if layout["household"]:
        payer += f"    户号：{layout['household']}"
    text(left, y, payer, 9)
    y -= 4 * mm
    pdf.setStrokeColor(black)
    pdf.line(left, y, right, y)
    columns = (left, left + 8 * mm, left + 26 * mm, left + 64 * mm, left + 86 * mm)
    y -= 5 * mm
    for x, title in zip(columns, ("序号", "姓名", "身份证号码", "金额（元）", "待遇享受期")):
        text(x, y, title, 8)
    y -= 1.5 * mm
    pdf.line(left, y, right, y)
    for row in layout["rows"]:
        y -= 5 * mm
        text(columns[0], y, row["no"], 8)
        text(columns[1], y, row["name"][:8], 8)
        text(columns[2], y, row["id"], 7)
        text(columns[3] + 18 * mm, y, row["amount"], 8, "right")
        text(columns[4], y, row["period"], 7)
        if row["mark"]:
            pdf.saveState()
            pdf.setFillColor(Color(0.78, 0.1, 0.1))
            text(right, y, row["mark"], 8, "right")
            pdf.restoreState()
        if row["later"]:
            y -= 4 * mm
            text(columns[4], y, row["later"], 7)
    y -= 2.5 * mm
    pdf.line(left, y, right, y)
    y -= 6 * mm
    text(left, y, f"合计：¥{layout['total']}", 10)
    text(left + 45 * mm, y, f"人民币（大写）：{layout['total_upper']}", 9)
    y -= 6 * mm
    text(left, y, f"收款方式：{layout['channel']}", 9)
    text(left + 45 * mm, y, f"收款人：{layout['collector']}", 9)
    if layout["replaces"]:
        y -= 5 * mm
        text(left, y, layout["replaces"], 9)
    if layout["void_lines"]:
        pdf.saveState()
        pdf.setFillColor(Color(0.78, 0.1, 0.1))
        for item in layout["void_lines"]:
            y -= 5 * mm
            text(left, y, item[:60], 9)
        pdf.restoreState()
    y -= 8 * mm
    pdf.setFont(FONT, 7)
    footer = layout["footer"]
    limit = right - left
    line = ""
    for char in footer:
        if stringWidth(line + char, FONT, 7) > limit:
            pdf.drawString(left, y, line)
            y -= 3.5 * mm
            line = ""
        line += char
    if line:
        pdf.drawString(left, y, line)
    # the stamp sits in the top right corner, above the 票据号/开票时间 line and right of the title
    sx, sy, sw, sh = stamp_box(width, height)
    if layout["reprint"]:
        red = Color(0.78, 0.1, 0.1)
        pdf.saveState()
        pdf.setFillColor(red)
        pdf.setStrokeColor(red)
        pdf.setLineWidth(1.5)
        pdf.rect(sx, sy, sw, sh)
        text(sx + sw / 2, sy + sh - 7 * mm, layout["reprint"], 16, "center")
        text(sx + sw / 2, sy + 2 * mm, layout["print_note"], 7, "center")
        pdf.restoreState()
    if layout["voided"]:
        red = Color(0.78, 0.1, 0.1)
        pdf.saveState()
        pdf.setFillColor(red)
        pdf.setStrokeColor(red)
        pdf.setLineWidth(1.5)
        pdf.rect(sx, sy, sw, sh)
        text(sx + sw / 2, sy + sh - 9 * mm, layout["voided"], 16, "center")
        pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def pdf_texts(data: bytes) -> list[str]:
    """The strings drawn in a receipt PDF (tests): one per drawn string, decoded through the embedded font's
    ToUnicode map."""
    return pdffonts.pdf_lines(data)

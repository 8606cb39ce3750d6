"""The receipt PDF's 补打/作废 stamp sits clear of every other text (开票时间 above all), and `yuan` on screen."""

import re
from decimal import Decimal

import pytest

from yibao.collection.receipts import pdf_texts, receipt_pdf
from yibao.core.templatetags.money import yuan

LAYOUT = {
    "title": "城乡居民基本医疗保险费收款票据", "subtitle": "怀远县  2025年度", "receipt_no": "340321-2025-0000001",
    "reprint": "补打", "print_note": "第12次打印", "payer": "欧阳明月", "household": "H0001",
    "rows": [{"no": "1", "name": "欧阳明月", "id": "340321********1234", "amount": "1,234.00",
              "period": "2025-01-01 至 2025-12-31", "later": "", "mark": ""}],
    "total": "1,234.00", "total_upper": "壹仟贰佰叁拾肆元整", "channel": "现金", "collector": "村收款员",
    "issued_at": "2024-10-08 10:00:00", "voided": "", "void_lines": [], "replaces": "", "footer": "本票据为收款凭证。",
}
DRAWN = re.compile(rb"BT 1 0 0 1 ([\d.]+) ([\d.]+) Tm /\S+ ([\d.]+) Tf [\d.]+ TL \(((?:\\.|[^\\)])*)\) Tj", re.S)
RECT = re.compile(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re S")


def texts_and_stamp(layout):
    data = receipt_pdf(layout)
    texts = []
    for x, y, size, raw in DRAWN.findall(data):
        (text,) = pdf_texts(b"(" + raw + b") Tj")
        size = float(size)
        # a generous box: every character as wide as the font size, from below the baseline to above the glyphs
        texts.append((text, float(x), float(y) - 0.25 * size, float(x) + len(text) * size, float(y) + 0.9 * size))
    rects = [tuple(float(v) for v in m) for m in RECT.findall(data)]
    return texts, rects


@pytest.mark.parametrize("stamp", ["reprint", "voided"])
def test_the_stamp_overlaps_no_text(stamp):
    layout = dict(LAYOUT, **({"voided": "作废", "reprint": "", "print_note": ""} if stamp == "voided" else {}))
    texts, rects = texts_and_stamp(layout)
    assert len(rects) == 1
    sx, sy, sw, sh = rects[0]
    inside = {"补打", "第12次打印", "作废"}
    issued = [t for t in texts if t[0].startswith("开票时间")]
    assert issued, [t[0] for t in texts]
    for text, x0, y0, x1, y1 in texts:
        if text in inside:
            assert sx <= x0 <= sx + sw and sy <= y0 and y1 <= sy + sh, text  # the stamp's own words, in its box
            continue
        overlaps = x0 < sx + sw and sx < x1 and y0 < sy + sh and sy < y1
        assert not overlaps, (text, (x0, y0, x1, y1), rects[0])


@pytest.mark.parametrize("value, shown", [
    (Decimal("1234"), "1,234.00"), ("1234567.5", "1,234,567.50"), (400, "400.00"), (Decimal("-20.00"), "-20.00"),
    (None, ""), ("", ""), ("不是数字", "不是数字"),
])
def test_yuan_groups_thousands(value, shown):
    assert yuan(value) == shown

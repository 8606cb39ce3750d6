"""Receipts and reports embed a subset of the CJK TrueType font (yibao.core.pdffonts), and their text reads back."""

import re

from yibao.core import pdffonts
from yibao.progress import reports


def _report(rows):
    columns = [reports.Column("村（社区）", "name", "text", 14), reports.Column("参保人数", "enrolled")]
    return reports.Report(title="怀远县进度公布表", subtitle="截至2025年1月1日", columns=columns, rows=rows, total=None,
                          notes=["依据：皖医保发〔2024〕1号"])


def test_report_pdf_embeds_a_subset_of_the_truetype_font_and_not_stsong():
    pdf = reports.report_pdf(_report([{"name": "喆堃村", "enrolled": 12}]))
    assert b"STSong-Light" not in pdf
    assert b"/FontFile2" in pdf
    assert re.search(rb"/BaseFont /[A-Z]{6}\+" + pdffonts.FONT.encode(), pdf)
    text = "\n".join(pdffonts.pdf_lines(pdf))
    for needed in ("怀远县进度公布表", "喆堃村", "12", "第 1 页", "皖医保发〔2024〕1号"):
        assert needed in text, needed


def test_more_than_256_characters_span_several_subsets_and_still_read_back():
    names = ["".join(chr(0x4E00 + i * 7 + k) for k in range(7)) for i in range(60)]  # 420 distinct characters
    pdf = reports.report_pdf(_report([{"name": n, "enrolled": i} for i, n in enumerate(names)]), compress=True)
    assert len(set(re.findall(rb"/BaseFont /([A-Z]{6})\+", pdf))) >= 2
    text = "\n".join(pdffonts.pdf_lines(pdf))
    assert all(n in text for n in names)


def test_the_font_covers_gb2312_and_rare_name_characters():
    from reportlab.pdfbase.pdfmetrics import getFont

    covered = getFont(pdffonts.cjk_font()).face.charToGlyph
    gb2312 = [bytes([a, b]).decode("gb2312") for a in range(0xB0, 0xF8) for b in range(0xA1, 0xFF)
              if not (a == 0xD7 and b > 0xF9)]
    assert [c for c in gb2312 if ord(c) not in covered] == []
    assert [c for c in "堃喆玥珺昇淼焱赟旻彧婕璟琛翀禤邝冼亓隗" if ord(c) not in covered] == []

"""The CJK font of every reportlab PDF (receipts, progress reports), and reading their text back (tests).

文泉驿微米黑 (WenQuanYi Micro Hei, Apache-2.0 / GPLv3 with font exception) is a TrueType (glyf) font
shipped by the pinned PyPI package `paperang-p2-fonts-cjk`. reportlab's TTFont embeds only the glyphs
a document uses (a subset, named like `AAAAAA+WenQuanYiMicroHei`, /FontFile2) with a ToUnicode CMap,
so every viewer shows the same characters; the old STSong-Light CID font was never embedded.
"""

from __future__ import annotations

import base64
import re
import zlib
from functools import cache
from importlib.resources import files

FONT = "WenQuanYiMicroHei"


def font_path() -> str:
    return str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")


@cache
def cjk_font() -> str:
    """Register the font once per process; returns its reportlab name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, font_path(), subfontIndex=0))
    return FONT


# ---------------------------------------------------------------- reading text back (tests, checks)


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            n = raw[i + 1]
            if 0x30 <= n <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4]).group(0)
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            if n in (0x0A, 0x0D):  # a line continuation
                i += 2
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def _stream(head: bytes, data: bytes) -> bytes:
    if b"ASCII85Decode" in head:
        body = data.strip()
        body = body[:-2] if body.endswith(b"~>") else body
        data = base64.a85decode(body[2:] if body.startswith(b"<~") else body)
    if b"FlateDecode" in head:
        try:
            data = zlib.decompressobj().decompress(data)
        except zlib.error:
            pass
    return data


def _cmap(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + k)
    return out


_OPS = re.compile(rb"/([^\s/\[\]()<>]+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*(?:Tj|')|(BT|ET|T\*|Td|TD|Tm)\b", re.S)


def pdf_lines(content: bytes) -> list[str]:
    """The text lines of a reportlab PDF: each drawn string (or paragraph line) once, decoded through the
    ToUnicode CMaps of the embedded subsets (one-byte codes); fonts without one read as Latin-1."""
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    for match in re.finditer(rb"(\d+) 0 obj(.*?)endobj", content, re.S):
        body = match.group(2)
        stream = re.search(rb"stream\r?\n(.*?)\r?\n?endstream", body, re.S)
        head = body[:stream.start()] if stream else body
        objects[int(match.group(1))] = (head, _stream(head, stream.group(1)) if stream else None)
    maps: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        ref = re.search(rb"/ToUnicode\s+(\d+) 0 R", head)
        if ref and int(ref.group(1)) in objects:
            maps[number] = _cmap(objects[int(ref.group(1))][1] or b"")
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _ in objects.values():
        for name, number in re.findall(rb"/([A-Za-z][\w+.-]*)\s+(\d+) 0 R", head):
            if int(number) in maps:
                fonts[name] = maps[int(number)]
    lines: list[str] = []
    for head, data in objects.values():
        if data is None or b"/Length" not in head or b"Tf" not in data:
            continue
        cmap: dict[int, str] | None = None
        line: list[str] = []
        for match in _OPS.finditer(data):
            font, literal, op = match.groups()
            if font is not None:
                cmap = fonts.get(font)
            elif literal is not None:
                raw = _unescape(literal)
                line.append("".join(cmap.get(b, "\ufffd") for b in raw) if cmap is not None else raw.decode("latin-1"))
            elif line:
                lines.append("".join(line))
                line = []
        if line:
            lines.append("".join(line))
    return lines

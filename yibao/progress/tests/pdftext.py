"""Text of a reportlab PDF written with the STSong-Light CID font (UTF-16BE strings), for assertions."""

import base64
import re
import zlib


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
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def pdf_text(content: bytes) -> str:
    texts = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        data = match.group(1)
        if data.rstrip().endswith(b"~>"):  # reportlab: /ASCII85Decode then /FlateDecode
            body = data.strip()[:-2]
            data = base64.a85decode(body[2:] if body.startswith(b"<~") else body)
        try:
            data = zlib.decompressobj().decompress(data)
        except zlib.error:
            pass
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data, re.S):
            raw = _unescape(literal)
            texts.append(raw.decode("utf-16-be", "replace") if len(raw) % 2 == 0 else raw.decode("latin-1"))
    return "\n".join(texts)

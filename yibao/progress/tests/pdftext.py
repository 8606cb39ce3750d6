"""Text of a reportlab PDF (embedded TrueType subsets, read through their ToUnicode maps), for assertions."""

from yibao.core.pdffonts import pdf_lines


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_lines(content))

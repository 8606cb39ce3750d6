"""Download names: the region's name beside its code, RFC 5987 so the Chinese survives, with an ASCII fallback."""

from urllib.parse import unquote

from yibao.core.downloads import content_disposition, region_file_name


def test_file_name_puts_the_name_beside_the_code():
    assert region_file_name("340321", "催缴名单", 2025, name="怀远县") == "怀远县-340321-催缴名单-2025.xlsx"
    assert region_file_name("340321", "对账", 2025, name="340321", extra="20241130第3次") == "340321-对账-2025-20241130第3次.xlsx"
    assert region_file_name("340321", "表", None, "pdf", name="a/b") == "a_b-340321-表.pdf"


def test_content_disposition_keeps_chinese_and_has_an_ascii_fallback():
    header = content_disposition("怀远县-340321-催缴名单-2025.xlsx")
    assert header.startswith('attachment; filename="340321-2025.xlsx"; ')
    assert unquote(header.split("filename*=UTF-8''")[1]) == "怀远县-340321-催缴名单-2025.xlsx"
    assert header.isascii()

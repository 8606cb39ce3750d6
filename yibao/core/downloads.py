"""Names of downloaded files: the region's name beside its code, sent as RFC 5987 `filename*` so Chinese survives."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE = re.compile(r'[\\/:*?"<>|\r\n\t]+')


def region_file_name(region_code: str, what: str, year: int | str | None = None, ext: str = "xlsx",
                     *, name: str | None = None, extra: str = "") -> str:
    """'怀远县-340321-催缴名单-2025.xlsx': the region's name, its code, what the file holds, the year."""
    if name is None:
        from yibao.regions.selectors import region_name

        name = region_name(region_code) if region_code else ""
    parts = [name if name and name != region_code else "", region_code, what, str(year) if year else "", extra]
    stem = "-".join(_UNSAFE.sub("_", p) for p in parts if p)
    return f"{stem}.{ext}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", filename)).strip("-.") or "download"
    if "." in filename and not ascii_name.endswith(filename.rsplit(".", 1)[1]):
        ascii_name += "." + filename.rsplit(".", 1)[1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"

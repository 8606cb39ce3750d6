"""Going through a money action's confirmation sheet with the test client."""

import html
import re

FORM = re.compile(r"<form[^>]*data-sheet[^>]*>(.*?)</form>", re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
TOTAL = re.compile(r'name="received"[^>]*data-total="([^"]+)"')


def sheet_of(response) -> dict:
    """The sheet's hidden fields (name → list of values); fails when the response is no sheet."""
    body = response.content.decode()
    assert response.status_code == 200 and 'id="confirm-sheet"' in body, body[:3000]
    found = FORM.search(body)
    assert found, "the sheet has no confirm form (refused?)"
    fields: dict[str, list[str]] = {}
    for name, value in HIDDEN.findall(found.group(1)):
        if name != "csrfmiddlewaretoken":
            fields.setdefault(name, []).append(html.unescape(value))
    total = TOTAL.search(found.group(1))
    if total:
        fields["_total"] = [total.group(1)]
    return fields


def confirm_post(client, url: str, data: dict, *, received: str | None = "total", **extra):
    """POST the form, check that nothing was booked yet is the caller's business; then confirm the sheet.
    For cash, `received` is what is handed over ('total' = the exact total)."""
    fields = sheet_of(client.post(url, data, **extra))
    total = fields.pop("_total", None)
    if total is not None and received is not None:
        fields["received"] = [total[0] if received == "total" else received]
    return client.post(url, fields, **extra)


def through_sheet(client, url: str, data: dict, **extra):
    """Like confirm_post, but a refusal or denial of the first POST (no sheet) is the answer."""
    first = client.post(url, data, **extra)
    body = first.content.decode(errors="replace")
    if first.status_code != 200 or "data-sheet" not in body:
        return first
    fields = sheet_of(first)
    total = fields.pop("_total", None)
    if total is not None:
        fields["received"] = total
    return client.post(url, fields, **extra)

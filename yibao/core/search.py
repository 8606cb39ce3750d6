"""One box, one person: the search in the top bar.

A query may be an ID number (whole, or its last 4 or more digits), a name (whole or its start),
a 户号, a 票据号 or a 缴费流水号. Every lookup is an indexed one within the user's scope:
  - whole ID number: (county_code, id_number) unique index;
  - last digits: the resident_id_tail expression index (county_code, SUBSTR(id_number, 15, 4));
  - name: the (county_code, name) index, as a range on SQLite (LIKE does not use an index there);
  - 户号, 票据号, 缴费流水号: their unique indexes, exact only.
A person outside the scope is never found, whatever the query, so a search leaks nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.urls import reverse

from yibao.core.idnumber import normalize

HINT = "请输入身份证号、姓名、户号、票据号或缴费流水号"
MAX_LENGTH = 64
MIN_TAIL = 4  # fewer last digits would match too many people
# digits, Latin letters, CJK ideographs, the middle dot of minority names, and - _ . / of numbers
_ALLOWED = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u00b7\u30fb\u2022\-_./]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SHORT_RECEIPT = re.compile(r"(\d{4})-(\d{1,7})")  # 2025-0000001 within the user's county

KIND_LABELS = {"person": "参保人", "household": "家庭户", "receipt": "票据", "payment": "缴费"}
KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class Hit:
    kind: str  # person, household, receipt, payment
    pk: int
    title: str
    detail: str  # masked (or whole, where allowed) ID number, amounts, status
    village: str  # '肖岭乡 / 白马'
    matched: str  # what matched: 身份证号, 身份证号尾号, 姓名, 户号, 票据号, 缴费流水号
    url: str
    exact: bool  # a whole identifier or a whole name, not a prefix or a tail

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def as_dict(self) -> dict:
        """The API's and the CLI's form of a hit."""
        return {"kind": self.kind, "kind_label": self.kind_label, "id": self.pk, "title": self.title,
                "detail": self.detail, "village": self.village, "matched": self.matched, "exact": self.exact,
                "url": self.url}


@dataclass
class SearchResult:
    q: str
    hint: str = ""
    hits: list[Hit] = field(default_factory=list)
    truncated: bool = False  # some kind had more matches than the limit

    @property
    def best(self) -> Hit | None:
        """The one clear match Enter opens: the only exact match, or else the only match."""
        exact = [h for h in self.hits if h.exact]
        if len(exact) == 1:
            return exact[0]
        if not exact and len(self.hits) == 1 and not self.truncated:
            return self.hits[0]
        return None

    def groups(self, hits: list[Hit] | None = None) -> list[tuple[str, list[Hit]]]:
        hits = self.hits if hits is None else hits
        return [(KIND_LABELS[k], [h for h in hits if h.kind == k]) for k in KINDS if any(h.kind == k for h in hits)]

    def first(self, n: int) -> list[Hit]:
        """Up to n hits for the suggestions, shared out among the kinds in turn, in kind order."""
        queues = [[h for h in self.hits if h.kind == k] for k in KINDS]
        taken: set[int] = set()
        chosen: list[tuple[int, int]] = []
        depth = 0
        while len(chosen) < n and any(len(q) > depth for q in queues):
            for i, queue in enumerate(queues):
                if len(queue) > depth and len(chosen) < n:
                    chosen.append((i, depth))
                    taken.add(id(queue[depth]))
            depth += 1
        return [h for h in self.hits if id(h) in taken]


def clean_query(raw) -> tuple[str, str]:
    """(query, hint): the query without spaces, or '' and the Chinese hint when it cannot be searched."""
    text = "".join(str(raw or "").split())
    if not text:
        return "", HINT
    if len(text) > MAX_LENGTH:
        return "", f"输入过长（最多{MAX_LENGTH}个字符）。{HINT}"
    if not _ALLOWED.fullmatch(text):
        return "", f"输入含有无法查找的字符。{HINT}"
    return text, ""


def _scoped(scope, queryset, prefix: str = ""):
    queryset = scope.filter(queryset, prefix=prefix)
    if scope.region_code:
        queryset = queryset.filter(**{prefix + "county_code": scope.county_code})
    return queryset


def _id_shape(q: str) -> tuple[str | None, str | None]:
    """(whole number, last digits) the query may stand for; either or both None."""
    from yibao.registry.selectors import id_query

    number = id_query(q)
    if number:
        return number, None
    text = normalize(q)
    body = text[:-1] if text.endswith("X") else text
    if body.isdigit() and MIN_TAIL <= len(text) < 18 and "X" not in body:
        return None, text
    return None, None


def _people(scope, q: str, limit: int) -> tuple[list, bool]:
    """Residents matched by whole ID number, last digits or name: [(resident, matched, exact)], truncated."""
    from yibao.registry.models import IdTail, Resident

    base = _scoped(scope, Resident.objects.select_related("household"))
    number, tail = _id_shape(q)
    found: list = []
    if number:
        found = [(r, "身份证号", True) for r in base.filter(id_number=number).order_by("id")[: limit + 1]]
    elif tail:
        rows = base.alias(id_tail=IdTail("id_number")).filter(id_tail=tail[-4:], id_number__endswith=tail)
        found = [(r, "身份证号尾号", False) for r in rows.order_by("village_code", "id")[: limit + 1]]
    elif _CJK.search(q) or q.isalpha():
        rows = base.filter(name__startswith=q)
        if connection.vendor == "sqlite":  # a range the (county_code, name) index serves; LIKE alone scans
            rows = rows.filter(name__gte=q, name__lt=q + "\U0010ffff")
        found = [(r, "姓名", r.name == q) for r in rows.order_by("name", "id")[: limit + 1]]
    return found[:limit], len(found) > limit


def search_everything(scope, q, limit: int = 8) -> SearchResult:
    """Everything in the scope a query names: people, households, receipts, payments (each up to limit)."""
    from yibao.collection.models import Payment, Receipt
    from yibao.regions.selectors import region_labels
    from yibao.registry.models import Household

    q, hint = clean_query(q)
    result = SearchResult(q=q, hint=hint)
    if not q:
        return result
    limit = max(1, int(limit))

    people, more_people = _people(scope, q, limit)
    households = list(_scoped(scope, Household.objects.select_related("head")).filter(number=q).order_by("id")[:limit])
    receipts, payments = [], []
    if scope.can("payments.view"):
        numbers = [q]
        short = _SHORT_RECEIPT.fullmatch(q)
        if short and scope.region_code:
            numbers.append(f"{scope.county_code}-{short.group(1)}-{int(short.group(2)):07d}")
        receipts = list(_scoped(scope, Receipt.objects.all()).filter(receipt_no__in=numbers).order_by("id")[:limit])
        pay_rows = _scoped(scope, Payment.objects.select_related("resident"))
        payments = [(p, "缴费流水号") for p in pay_rows.filter(external_id=q).order_by("id")[:limit]]
        number, _ = _id_shape(q)
        if number and len(payments) < limit:  # 查无此人: a payment for a number no resident holds
            orphans = pay_rows.filter(id_number=number, resident__isnull=True).order_by("-paid_at", "-id")
            payments += [(p, "身份证号") for p in orphans[: limit - len(payments)]]
    result.truncated = more_people

    labels = region_labels([r.village_code for r, _, _ in people] + [h.village_code for h in households]
                           + [r.village_code for r in receipts] + [p.village_code for p, _ in payments])
    for resident, matched, exact in people:
        bits = [scope.show_id(resident.id_number, resident.village_code)]
        if resident.household_id and resident.household:
            bits.append(f"户号 {resident.household.number}")
        if resident.status != resident.Status.ACTIVE:
            bits.append(resident.get_status_display())
        result.hits.append(Hit(
            kind="person", pk=resident.pk, title=resident.name, detail=" · ".join(bits),
            village=labels.get(resident.village_code, resident.village_code), matched=matched,
            url=reverse("registry:resident", args=[resident.pk]), exact=exact,
        ))
    for household in households:
        head = household.head.name if household.head_id and household.head else ""
        result.hits.append(Hit(
            kind="household", pk=household.pk, title=f"户号 {household.number}",
            detail=f"户主 {head}" if head else "", village=labels.get(household.village_code, household.village_code),
            matched="户号", url=reverse("registry:household", args=[household.pk]), exact=True,
        ))
    for receipt in receipts:
        state = " · 已作废" if receipt.voided_at else ""
        result.hits.append(Hit(
            kind="receipt", pk=receipt.pk, title=f"票据 {receipt.receipt_no}",
            detail=f"缴款人 {receipt.payer_name} · {receipt.total:,.2f} 元{state}",
            village=labels.get(receipt.village_code, receipt.village_code), matched="票据号",
            url=reverse("collection:receipt", args=[receipt.pk]), exact=True,
        ))
    for payment, matched in payments:
        who = payment.resident.name if payment.resident_id and payment.resident else "查无此人"
        shown = scope.show_id(payment.id_number, payment.village_code)
        result.hits.append(Hit(
            kind="payment", pk=payment.pk, title=f"缴费 {payment.external_id}",
            detail=f"{who} · {shown} · {payment.amount:,.2f} 元 · {payment.get_status_display()}",
            village=labels.get(payment.village_code, payment.village_code) if payment.village_code else "",
            matched=matched, url=reverse("collection:payment", args=[payment.pk]), exact=True,
        ))
    return result

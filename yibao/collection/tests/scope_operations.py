"""Collection operations for the scope matrix (tests/test_scope_matrix.py).

Each target village's county gets its campaign on first use (崇阳 421223 under the 肖岭乡 2024
policy, 随县 421321 under 随县 2023), and the business clock is set inside that county's
collection window. Payments are made for the target's second member (the head holds an open
flag and may not enroll); the payment, refund or 先缴后补 entry an operation needs is made
inside the call, as the command line would, and rolled back with the case.
"""

import json

from django.test import override_settings

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text
from yibao.collection.tests.sheet import through_sheet

POLICIES = {"421223": ("hubei-chongyang-xiaoling-2024", "2023-10-10"), "421321": ("hubei-suixian-2023", "2022-10-10")}


def _campaign(t):
    from yibao.enrollment.models import Campaign
    from yibao.policy.loader import load_policy

    policy_id, _ = POLICIES[t.county_code]
    policy = load_policy(policy_id)
    window = policy.data.collection.main_window
    campaign, _ = Campaign.objects.get_or_create(
        county_code=t.county_code, benefit_year=policy.data.benefit_year,
        defaults={"policy_id": policy_id, "policy_version": policy.version, "collection_start": window.start,
                  "collection_end": window.end},
    )
    return campaign


def _clock(t):
    return override_settings(YIBAO_TODAY=POLICIES[t.county_code][1])


def _paid(t):
    """The member's payment at the counter, made by the command line."""
    from yibao.collection.models import Payment
    from yibao.collection.services import payment_collect

    _campaign(t)
    found = Payment.objects.filter(resident=t.member, status="booked").first()
    if found:
        return found
    with _clock(t):
        return payment_collect(residents=[t.member], channel="cash", actor="矩阵准备").payments[0]


def _owed(t):
    """A 先缴后补 entry on the member's payment (neither seed policy of these counties pays later)."""
    from yibao.collection.models import SubsidyRefund

    payment = _paid(t)
    entry, _ = SubsidyRefund.objects.get_or_create(
        payment=payment,
        defaults={"county_code": payment.county_code, "township_code": payment.township_code,
                  "village_code": payment.village_code, "resident": t.member, "benefit_year": payment.benefit_year,
                  "identity": "entitled_group", "amount": payment.amount},
    )
    return entry


def _json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


def _with_clock(call):
    def run(client, world, t):
        _campaign(t)
        with _clock(t):
            return call(client, world, t)

    return run


def _member_paid(world, t):
    from yibao.collection.models import Payment

    return Payment.objects.filter(resident=t.member, status="booked").exists()


def _refund_made(world, t):
    from yibao.collection.models import Refund

    return Refund.objects.filter(resident=t.member).exists()


def _subsidy_approved(world, t):
    from yibao.collection.models import SubsidyRefund

    return SubsidyRefund.objects.filter(resident=t.member, status="approved").exists()


def _refund_requested(t):
    from yibao.collection.services import refund_request

    payment = _paid(t)
    with _clock(t):
        return refund_request(payment=payment, reason="death", actor="矩阵准备")


def _pdf_text(response):
    from yibao.collection.receipts import pdf_texts

    if response.status_code == 200 and response.content.startswith(b"%PDF"):
        return "\n".join(pdf_texts(response.content))
    return response.content.decode("utf-8", "replace")


def _under_paid(t):
    """A flagged under-payment of the member, as a channel file leaves it."""
    import datetime as dt

    from django.utils import timezone

    from yibao.collection.models import Payment
    from yibao.collection.selectors import due_quote

    campaign = _campaign(t)
    day = dt.date.fromisoformat(POLICIES[t.county_code][1])
    due = due_quote(resident=t.member, campaign=campaign, paid_on=day).payable
    return Payment.objects.create(
        county_code=t.county_code, township_code=t.township_code, village_code=t.village_code, campaign=campaign,
        benefit_year=campaign.benefit_year, resident=t.member, id_number=t.member.id_number, source="file",
        channel="wechat", external_id=f"UNDER-{t.member.pk}", amount=due - 50, expected_amount=due,
        paid_at=timezone.now(), paid_on=day, status="flagged", flag="under", flag_advice="少缴50元，请补缴差额",
    )


def _receipt_id(t):
    return _paid(t).receipt_line.receipt_id


def _rechecked(world, t):
    from yibao.core.models import Event

    return Event.objects.filter(entity="payment", action__in=["rechecked", "booked"],
                                reason__startswith="重新匹配").exists()


def _receipt_voided(world, t):
    from yibao.collection.models import Receipt

    return Receipt.objects.filter(village_code=t.village_code, voided_at__isnull=False).exists()


MEMBER = {"shows": lambda t: t.member.name}

OPERATIONS = [
    # ------------------------------------------------------------ the counter
    ScopeOperation(
        name="collection.page.counter_search",
        capability="payments.collect",
        call=lambda client, world, t: client.get("/collection/", {"q": t.member.id_number}),
        on_foreign="filter",
        shows=lambda t: t.member.name,
        leaks=lambda t: [t.member.name, t.resident.name],  # the page repeats the number searched for
    ),
    ScopeOperation(
        name="collection.page.counter_household",
        capability="payments.collect",
        call=_with_clock(lambda client, world, t: client.get(f"/collection/counter/households/{t.household.pk}/")),
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.household_dues",
        capability="payments.collect",
        kind="api",
        call=_with_clock(lambda client, world, t: client.get(f"/api/collection/households/{t.household.pk}/dues")),
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.counter_pay",
        capability="payments.collect",
        call=_with_clock(lambda client, world, t: through_sheet(
            client, "/collection/counter/pay/", {"household": t.household.pk, "residents": [t.member.pk], "channel": "cash"})),
        shows=lambda t: None,
        effect=_member_paid,
    ),
    ScopeOperation(
        name="collection.api.counter_pay",
        capability="payments.collect",
        kind="api",
        call=_with_clock(lambda client, world, t: _json(
            client, "/api/collection/counter-payments", {"resident_ids": [t.member.pk], "channel": "wechat"})),
        effect=_member_paid,
        **MEMBER,
    ),
    # ------------------------------------------------------------ payments and receipts
    ScopeOperation(
        name="collection.page.payments",
        capability="payments.view",
        call=lambda client, world, t: (_paid(t), client.get("/collection/payments/"))[1],
        on_foreign="filter",
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.payments",
        capability="payments.view",
        kind="api",
        call=lambda client, world, t: (_paid(t), client.get("/api/collection/payments"))[1],
        on_foreign="filter",
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.payment",
        capability="payments.view",
        call=lambda client, world, t: client.get(f"/collection/payments/{_paid(t).pk}/"),
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.receipt",
        capability="payments.view",
        call=lambda client, world, t: client.get(f"/collection/receipts/{_receipt_id(t)}/"),
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.receipt_pdf",
        capability="receipts.print",
        call=lambda client, world, t: client.get(f"/collection/receipts/{_receipt_id(t)}/pdf"),
        read=_pdf_text,
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.receipt_pdf",
        capability="receipts.print",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/collection/receipts/{_receipt_id(t)}/pdf"),
        read=_pdf_text,
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.payment_recheck",
        capability="payments.ingest",
        call=lambda client, world, t: client.post(f"/collection/payments/{_under_paid(t).pk}/recheck/"),
        shows=lambda t: None,
        effect=_rechecked,
    ),
    ScopeOperation(
        name="collection.api.payment_recheck",
        capability="payments.ingest",
        kind="api",
        call=lambda client, world, t: client.post(f"/api/collection/payments/{_under_paid(t).pk}/recheck"),
        shows=lambda t: None,
        effect=_rechecked,
    ),
    ScopeOperation(
        name="collection.page.receipt_void",
        capability="receipts.void",
        call=lambda client, world, t: through_sheet(client, f"/collection/receipts/{_receipt_id(t)}/void/",
                                                    {"reason": "矩阵：换开", "reissue": "1"}),
        shows=lambda t: None,
        effect=_receipt_voided,
    ),
    ScopeOperation(
        name="collection.api.receipt_void",
        capability="receipts.void",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/collection/receipts/{_receipt_id(t)}/void",
                                            {"reason": "矩阵：换开", "reissue": True}),
        shows=lambda t: None,
        effect=_receipt_voided,
    ),
    ScopeOperation(
        name="collection.page.ingest",
        capability="payments.ingest",
        call=lambda client, world, t: client.get("/collection/ingest/"),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="collection.api.payment_top_up",
        capability="payments.collect",
        kind="api",
        call=_with_clock(lambda client, world, t: _json(
            client, f"/api/collection/payments/{_under_paid(t).pk}/top-up", {"channel": "cash"})),
        effect=_member_paid,
        **MEMBER,
    ),
    # ------------------------------------------------------------ refunds
    ScopeOperation(
        name="collection.page.refunds",
        capability="payments.view",
        call=lambda client, world, t: (_refund_requested(t), client.get("/collection/refunds/"))[1],
        on_foreign="filter",
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.page.refund_new",
        capability="refunds.request",
        call=lambda client, world, t: (_paid(t), client.get("/collection/refunds/new/", {"q": t.member.id_number}))[1],
        on_foreign="filter",
        leaks=lambda t: [t.member.name, t.resident.name],  # the page repeats the number searched for
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.refund_request",
        capability="refunds.request",
        kind="api",
        call=_with_clock(lambda client, world, t: _json(
            client, "/api/collection/refunds", {"payment_id": _paid(t).pk, "reason": "death"})),
        effect=_refund_made,
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.refunds",
        capability="payments.view",
        kind="api",
        call=lambda client, world, t: (_refund_requested(t), client.get("/api/collection/refunds"))[1],
        on_foreign="filter",
        **MEMBER,
    ),
    # ------------------------------------------------------------ 先缴后补
    ScopeOperation(
        name="collection.page.subsidy_refunds",
        capability="subsidy_refunds.view",
        call=lambda client, world, t: (_owed(t), client.get("/collection/subsidy-refunds/"))[1],
        on_foreign="filter",
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.export.subsidy_refunds",
        capability="subsidy_refunds.view",
        kind="export",
        call=lambda client, world, t: (_owed(t), client.get("/collection/subsidy-refunds/export.xlsx"))[1],
        on_foreign="filter",
        read=xlsx_text,
        **MEMBER,
    ),
    ScopeOperation(
        name="collection.api.subsidy_refunds_approve",
        capability="subsidy_refunds.approve",
        kind="api",
        call=lambda client, world, t: _json(
            client, "/api/collection/subsidy-refunds/approve", {"ids": [_owed(t).pk]}),
        shows=lambda t: None,
        effect=_subsidy_approved,
    ),
    ScopeOperation(
        name="collection.page.subsidy_refunds_approve",
        capability="subsidy_refunds.approve",
        call=lambda client, world, t: client.post(
            "/collection/subsidy-refunds/action/",
            {"action": "approve", "ids": [_owed(t).pk]}),
        shows=lambda t: None,
        effect=_subsidy_approved,
    ),
]

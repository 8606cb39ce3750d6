"""Reconciliation operations for the scope matrix (tests/test_scope_matrix.py).

A run belongs to a county; its mismatches carry the village they concern. Each call builds what it
needs in the target's county: a campaign, a run whose one mismatch names the target's resident, or
a cash handover by the collector bound to the target village.
"""

import datetime as dt
import json
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text

POLICIES = {"421223": "hubei-chongyang-xiaoling-2024", "421321": "hubei-suixian-2023"}
PERIOD = (dt.date(2023, 10, 1), dt.date(2023, 10, 5), dt.date(2023, 10, 6))


def _campaign(county: str):
    from yibao.enrollment.models import Campaign
    from yibao.enrollment.tests.factories import campaign

    return Campaign.objects.filter(county_code=county).first() or campaign(county, POLICIES[county])


def _run(t):
    """A run of the target's county with one mismatch about the target's resident."""
    from yibao.reconciliation.models import Mismatch, ReconciliationRun

    campaign = _campaign(t.county_code)
    today = timezone.localdate()
    run = ReconciliationRun.objects.create(
        county_code=t.county_code, benefit_year=campaign.benefit_year, as_of=today, ran_on=today,
        started_at=timezone.now(), tax_file_name="矩阵.csv", tax_file_sha256="0" * 64, mismatch_total=1,
    )
    Mismatch.objects.create(
        run=run, county_code=t.county_code, township_code=t.township_code, village_code=t.village_code,
        kind="booked_not_paid", responsible="collector", responsible_name="村征收员 矩阵", key=f"matrix:{t.key}",
        first_seen_run_id=run.pk, first_seen_on=today, person_name=t.resident.name, id_number=t.resident.id_number,
        yibao_amount=Decimal("400.00"), difference=Decimal("400.00"), detail="医保已入账，税务缴费记录中没有这笔缴费",
        action="请将收取的款项及时缴入税务",
    )
    return run


def _handover(t):
    from yibao.reconciliation.models import CashHandover

    campaign = _campaign(t.county_code)
    return CashHandover.objects.create(
        county_code=t.county_code, township_code=t.township_code, village_code=t.village_code,
        benefit_year=campaign.benefit_year, collector=t.user, collector_name=t.user.display_name,
        period_start=PERIOD[0], period_end=PERIOD[1], handed_on=PERIOD[2], amount=Decimal("800.00"),
        received_by_name="矩阵接收人",
    )


def _handover_recorded(world, t):
    from yibao.reconciliation.models import CashHandover

    return CashHandover.objects.filter(village_code=t.village_code, collector=t.user, voided_at__isnull=True).exists()


def _handover_voided(world, t):
    from yibao.reconciliation.models import CashHandover

    return CashHandover.objects.filter(village_code=t.village_code, voided_at__isnull=False).exists()


def _may_record(scope, world, t):
    from yibao.reconciliation.services import handover_may_record

    return handover_may_record(scope) and scope.contains(t.village_code)


def _tax_file(t):
    body = f"缴费流水号,身份证号码,缴费金额,缴费时间\nM-{t.key},{t.resident.id_number},400,2023-10-08\n"
    return SimpleUploadedFile("税务明细.csv", body.encode("utf-8"), content_type="text/csv")


def _run_started(world, t):
    from yibao.reconciliation.models import ReconciliationRun

    return ReconciliationRun.objects.filter(county_code=t.county_code, tax_file_name="税务明细.csv").exists()


def _handover_form(t):
    start, end, handed = PERIOD
    return {"benefit_year": _campaign(t.county_code).benefit_year, "collector": f"u{t.user.pk}",
            "village_code": t.village_code, "period_start": start.isoformat(), "period_end": end.isoformat(),
            "handed_on": handed.isoformat(), "amount": "800.00"}


def _rectified(world, t):
    from yibao.reconciliation.models import Mismatch

    return Mismatch.objects.filter(key=f"matrix:{t.key}", rectified_at__isnull=False).exists()


def _may_rectify(scope, world, t):
    """The matrix's mismatch is the village collector's to fix: its village's collectors and township."""
    from yibao.reconciliation.rectify import RECTIFY_ROLES

    if scope.superuser:
        return scope.contains(t.village_code)
    return scope.role in RECTIFY_ROLES["collector"] and scope.contains(t.village_code)


OPERATIONS = [
    ScopeOperation(
        name="reconciliation.page.mismatch_rectify",
        capability="reconcile.view",
        call=lambda client, world, t: client.post(
            f"/reconciliation/mismatches/{_run(t).mismatches.get().pk}/rectify/", {"note": "矩阵"}),
        allowed=_may_rectify,
        shows=lambda t: None,
        leaks=lambda t: [],
        effect=_rectified,
    ),
    ScopeOperation(
        name="reconciliation.api.mismatch_rectify",
        capability="reconcile.view",
        kind="api",
        call=lambda client, world, t: client.post(
            f"/api/reconciliation/mismatches/{_run(t).mismatches.get().pk}/rectify", json.dumps({"note": "矩阵"}),
            content_type="application/json"),
        allowed=_may_rectify,
        effect=_rectified,
    ),
    ScopeOperation(
        name="reconciliation.page.runs",
        capability="reconcile.view",
        call=lambda client, world, t: client.get("/reconciliation/"),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="reconciliation.page.run_detail",
        capability="reconcile.view",
        call=lambda client, world, t: client.get(f"/reconciliation/runs/{_run(t).pk}/"),
        deny_status=(200, 403, 404),  # another county's run: refused; another township's mismatch: left out
    ),
    ScopeOperation(
        name="reconciliation.page.run_detail_in_region",
        capability="reconcile.view",
        call=lambda client, world, t: client.get(f"/reconciliation/runs/{_run(t).pk}/", {"region": t.village_code}),
    ),
    ScopeOperation(
        name="reconciliation.export.mismatches",
        capability="reconcile.view",
        kind="export",
        call=lambda client, world, t: client.get(f"/reconciliation/runs/{_run(t).pk}/export.xlsx"),
        read=xlsx_text,
        deny_status=(200, 403, 404),
    ),
    ScopeOperation(
        name="reconciliation.api.mismatches",
        capability="reconcile.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/reconciliation/runs/{_run(t).pk}/mismatches"),
        deny_status=(200, 403, 404),
    ),
    ScopeOperation(
        name="reconciliation.api.run_start",
        capability="reconcile.run",
        kind="api",
        call=lambda client, world, t: client.post("/api/reconciliation/runs", {
            "benefit_year": _campaign(t.county_code).benefit_year, "county_code": t.county_code,
            "as_of": "2023-12-31", "tax_file": _tax_file(t),
        }),
        region=lambda t: t.county_code,
        shows=lambda t: None,
        effect=_run_started,
    ),
    ScopeOperation(
        name="reconciliation.page.handovers",
        capability="payments.view",
        call=lambda client, world, t: (_handover(t), client.get("/reconciliation/handovers/", {"year": _campaign(t.county_code).benefit_year}))[1],
        on_foreign="filter",
        shows=lambda t: t.user.display_name,
        leaks=lambda t: [t.user.display_name],
    ),
    ScopeOperation(
        name="reconciliation.page.handover_record",
        capability="payments.view",
        call=lambda client, world, t: client.post("/reconciliation/handovers/", _handover_form(t)),
        allowed=_may_record,
        shows=lambda t: None,
        leaks=lambda t: [],
        deny_status=(200, 403),  # a village outside the scope is not among the choices
        effect=_handover_recorded,
    ),
    ScopeOperation(
        name="reconciliation.api.handover_record",
        capability="payments.view",
        kind="api",
        call=lambda client, world, t: client.post("/api/reconciliation/handovers", json.dumps({
            "village_code": t.village_code, "benefit_year": _campaign(t.county_code).benefit_year,
            "collector_id": t.user.pk, "period_start": PERIOD[0].isoformat(), "period_end": PERIOD[1].isoformat(),
            "handed_on": PERIOD[2].isoformat(), "amount": "800.00",
        }), content_type="application/json"),
        allowed=_may_record,
        shows=lambda t: t.user.display_name,
        leaks=lambda t: [t.user.display_name],
        effect=_handover_recorded,
    ),
    ScopeOperation(
        name="reconciliation.page.handover_void",
        capability="payments.view",
        call=lambda client, world, t: client.post(f"/reconciliation/handovers/{_handover(t).pk}/void/", {"reason": "矩阵"}),
        allowed=_may_record,
        shows=lambda t: None,
        leaks=lambda t: [],
        effect=_handover_voided,
    ),
]

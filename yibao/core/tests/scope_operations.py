"""Job and change-log operations for the scope matrix (tests/test_scope_matrix.py).

A job works on a whole county (缴费明细, 对账, 核定, imports): its result and report name people of
every village, so only county-level accounts of that county see it (a department clerk only the
jobs they started), and only those that read whole ID numbers download its report. The change log
is read by county accounts with audit.view; an auditor reads numbers masked.
"""

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text
from yibao.core.idnumber import mask_id_number


def _county_reader(scope, world, t):
    """County accounts of the target's county, and a city or province holding it (issue 14)."""
    return (scope.level == 6 or scope.above_county) and scope.covers_county(t.county_code) \
        and scope.role != "department_clerk"


def _county_level_reader(scope, world, t):
    """Import records are person lists: county accounts only, never a city or province."""
    return scope.level == 6 and scope.county_code == t.county_code and scope.role != "department_clerk"


def _county_reader_of_full_ids(scope, world, t):
    return _county_reader(scope, world, t) and scope.full_id


def _job(t, kind="ingest_payments"):
    """A finished county job of the target's county whose report quotes the target's head, whole number."""
    import polars as pl

    from yibao.core.models import Job
    from yibao.imports.reports import report_path, report_write

    job = Job.objects.create(
        kind=kind, county_code=t.county_code, status=Job.Status.SUCCEEDED, input_name=f"{t.village_name}明细.csv",
        params={"county_code": t.county_code}, result={"rows": 2, "booked": 1, "rejected": 1, "county_code": t.county_code},
        message=f"已完成：{t.village_name}明细",
    )
    issues = pl.DataFrame({"_row": [3], "column": ["身份证号码"], "value": [t.resident.id_number],
                           "reason": [f"{t.resident.name}（{t.resident.id_number}）：金额不符"], "level": ["error"]})
    job.report_path = str(report_write(issues=issues, path=report_path(job_id=job.pk, kind="缴费明细"), title="测试"))
    job.save(update_fields=["report_path"])
    return job


def _failed_job(t, kind="ingest_payments"):
    """A failed county job whose message quotes the target's head by whole number."""
    from yibao.core.models import Job

    return Job.objects.create(kind=kind, county_code=t.county_code, status=Job.Status.FAILED,
                              message=f"第3行身份证号码 {t.resident.id_number} 重复（{t.village_name}）",
                              error=f"第3行身份证号码 {t.resident.id_number} 重复")


def _export_searched(client, t):
    """A county account exported the 先缴后补 list searching for the target's member by number."""
    from yibao.core.services import event_record

    return event_record(county_code=t.county_code, entity="export", entity_id="subsidy_refunds", action="export",
                        actor=None, after={"rows": 1, "q": t.member.id_number}, reason=f"导出 {t.member.id_number}")


def _changed(t):
    """A status change whose event quotes the target's head by whole number (as services record them)."""
    from yibao.core.services import event_record

    return event_record(county_code=t.county_code, entity="resident", entity_id=str(t.resident.pk), action="update",
                        actor=None, before={"id_number": t.resident.id_number}, after={"name": t.resident.name},
                        reason=f"矩阵{t.village_name}")


def _event_reader(scope, world, t):
    return (scope.level == 6 or scope.above_county) and scope.covers_county(t.county_code)


OPERATIONS = [
    ScopeOperation(
        name="core.page.job_progress",
        capability="jobs.view",
        call=lambda client, world, t: client.get(f"/jobs/{_job(t).pk}/progress"),
        allowed=_county_reader,
        shows=lambda t: f"已完成：{t.village_name}明细",
        leaks=lambda t: t.secrets() + [f"已完成：{t.village_name}明细"],
    ),
    ScopeOperation(
        name="core.page.job_progress_failed",
        capability="jobs.view",
        call=lambda client, world, t: client.get(f"/jobs/{_failed_job(t).pk}/progress"),
        allowed=_county_reader,
        shows=lambda t: f"重复（{t.village_name}）",  # the message, its number masked for 审计
    ),
    ScopeOperation(
        name="reconciliation.api.job_failed",
        capability="reconcile.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/reconciliation/jobs/{_failed_job(t, 'reconcile').pk}"),
        allowed=_county_reader,
        shows=lambda t: f"重复（{t.village_name}）",
    ),
    ScopeOperation(
        name="core.export.job_report",
        capability="jobs.view",
        kind="export",
        call=lambda client, world, t: client.get(f"/jobs/{_job(t).pk}/report"),
        allowed=_county_reader_of_full_ids,
        shows=lambda t: t.resident.id_number,
        read=xlsx_text,
    ),
    ScopeOperation(
        name="core.export.job_report_of_reconciliation",
        capability="jobs.view",
        kind="export",
        call=lambda client, world, t: client.get(f"/jobs/{_job(t, 'reconcile').pk}/report"),
        allowed=_county_reader_of_full_ids,
        shows=lambda t: t.resident.id_number,
        read=xlsx_text,
    ),
    ScopeOperation(
        name="imports.page.job_preview_numbers",
        capability="jobs.view",
        call=lambda client, world, t: client.get(f"/imports/{_job(t, 'import_residents').pk}/"),
        allowed=_county_level_reader,
        shows=lambda t: f"{t.resident.name}（",  # the report's reason, its number masked for 审计
    ),
    ScopeOperation(
        name="collection.page.ingest_job",
        capability="payments.ingest",
        call=lambda client, world, t: client.get(f"/collection/ingest/{_job(t).pk}/"),
        allowed=_county_reader,
        shows=lambda t: f"{t.village_name}明细.csv",
        leaks=lambda t: t.secrets() + [f"{t.village_name}明细.csv"],
    ),
    ScopeOperation(
        name="collection.page.ingest_list",
        capability="payments.ingest",
        call=lambda client, world, t: (_job(t), client.get("/collection/ingest/"))[1],
        on_foreign="filter",
        allowed=_county_reader,
        shows=lambda t: f"{t.village_name}明细.csv",
        leaks=lambda t: t.secrets() + [f"{t.village_name}明细.csv"],
    ),
    ScopeOperation(
        name="reconciliation.api.job",
        capability="reconcile.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/reconciliation/jobs/{_job(t, 'reconcile').pk}"),
        allowed=_county_reader,
        shows=lambda t: f"已完成：{t.village_name}明细",
        leaks=lambda t: t.secrets() + [f"已完成：{t.village_name}明细"],
    ),
    ScopeOperation(
        name="core.page.events_export_terms",
        capability="audit.view",
        call=lambda client, world, t: (_export_searched(client, t), client.get("/events/", {"entity": "export"}))[1],
        on_foreign="filter",
        allowed=_event_reader,
        shows=lambda t: t.member.id_number[-4:],
        leaks=lambda t: [t.member.id_number],
    ),
    ScopeOperation(
        name="core.page.events",
        capability="audit.view",
        call=lambda client, world, t: (_changed(t), client.get("/events/", {"entity": "resident"}))[1],
        on_foreign="filter",
        allowed=_event_reader,
        shows=lambda t: f"矩阵{t.village_name}",
        leaks=lambda t: [t.resident.id_number, f"矩阵{t.village_name}"],
    ),
    ScopeOperation(
        name="core.api.events_person",
        capability="audit.view",
        kind="api",
        call=lambda client, world, t: (_changed(t), client.get("/api/events", {"person": t.resident.name}))[1],
        on_foreign="filter",
        allowed=_event_reader,
        shows=lambda t: f"矩阵{t.village_name}",
        leaks=lambda t: [t.resident.id_number, f"矩阵{t.village_name}"],
    ),
    ScopeOperation(
        name="core.export.events",
        capability="audit.view",
        kind="export",
        call=lambda client, world, t: (_changed(t), client.get("/events/export.xlsx", {"action": "resident.update"}))[1],
        on_foreign="filter",
        allowed=_event_reader,
        shows=lambda t: f"矩阵{t.village_name}",
        leaks=lambda t: [t.resident.id_number, f"矩阵{t.village_name}"],
        read=xlsx_text,
    ),
    # the top bar's search (yibao/core/search.py): a person outside the region is never found, by any query
    ScopeOperation(
        name="core.page.search_suggest_id",
        capability="registry.view",
        call=lambda client, world, t: client.get("/search/suggest/", {"q": t.resident.id_number}),
        on_foreign="filter",
        leaks=lambda t: [t.resident.name, t.member.name],  # the hint repeats the number typed (masked or not)
    ),
    ScopeOperation(
        name="core.page.search_name",
        capability="registry.view",
        call=lambda client, world, t: client.get("/search/", {"q": t.member.name, "all": "1"}),
        on_foreign="filter",
        shows=lambda t: t.member.id_number[-4:],
        leaks=lambda t: [t.member.id_number, t.resident.name, mask_id_number(t.member.id_number)],
    ),
    ScopeOperation(
        name="core.api.search_tail",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/search", {"q": t.member.id_number[-6:]}),
        on_foreign="filter",
        shows=lambda t: t.member.name,
        leaks=lambda t: [t.member.name, t.member.id_number, mask_id_number(t.member.id_number)],
    ),
]

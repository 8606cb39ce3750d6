"""Progress operations for the scope matrix (tests/test_scope_matrix.py).

Each call first makes the target's head and member last year's (2023) enrollees in their village,
so they are on the village's 2024 催缴 list, and gives the village a 2024 target.
"""

import json

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text

YEAR = 2024
POLICIES = {"421223": "hubei-chongyang-xiaoling-2024", "421321": "hubei-suixian-2023"}


def _campaign(county: str, year: int):
    import datetime as dt

    from yibao.enrollment.models import Campaign

    campaign, _ = Campaign.objects.get_or_create(
        county_code=county, benefit_year=year,
        defaults={"policy_id": POLICIES.get(county, "hubei-chongyang-xiaoling-2024"), "policy_version": "matrix",
                  "collection_start": dt.date(year - 1, 9, 1), "collection_end": dt.date(year - 1, 12, 31)},
    )
    return campaign


def _prepare(t) -> None:
    import datetime as dt

    from yibao.enrollment.models import Enrollment
    from yibao.progress.models import Target

    last = _campaign(t.county_code, YEAR - 1)
    _campaign(t.county_code, YEAR)
    for person in (t.resident, t.member):
        Enrollment.objects.get_or_create(
            county_code=person.county_code, resident=person, benefit_year=YEAR - 1,
            defaults={"township_code": person.township_code, "village_code": person.village_code, "campaign": last,
                      "id_number": person.id_number, "kind": "renewal", "status": "paid",
                      "benefit_start": dt.date(YEAR - 1, 1, 1), "benefit_end": dt.date(YEAR - 1, 12, 31)},
        )
    Target.objects.get_or_create(
        region_code=t.village_code, benefit_year=YEAR,
        defaults={"county_code": t.county_code, "level": 12, "total": 40, "source": "import"},
    )


def _lists_targets_unasked(scope, world, t):
    """The targets page without ?county=: a city with one loaded county lists it; a province with several
    asks 请选择县（区） first (issue 14)."""
    from yibao.regions.selectors import scope_counties

    if scope.above_county and len(scope_counties(scope=scope)) > 1:
        return False
    return scope.contains(t.village_code)


def _get(url, params=None):
    def call(client, world, t):
        _prepare(t)
        return client.get(url(t) if callable(url) else url, params(t) if callable(params) else params)

    return call


def _post(url, data, *, as_json=False, method="post"):
    def call(client, world, t):
        _prepare(t)
        payload = data(t)
        if as_json:
            return getattr(client, method)(url(t), json.dumps(payload), content_type="application/json")
        return client.post(url(t), payload)

    return call


def _marked(world, t) -> bool:
    from yibao.progress.models import RemindMark

    return RemindMark.objects.filter(resident_id=t.resident.pk).exists()


def _target_is(total):
    def check(world, t) -> bool:
        from yibao.progress.models import Target

        return Target.objects.filter(region_code=t.village_code, benefit_year=YEAR, total=total).exists()

    return check


def _import_call(client, world, t):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _prepare(t)
    table = f"村名,应参保人数\n{t.village_name},77\n合计,77\n".encode()
    return client.post("/progress/targets/import/", {
        "file": SimpleUploadedFile("任务表.csv", table), "year": str(YEAR), "township": t.township_code,
    })


def _recount_started(county: str) -> bool:
    from yibao.core.models import Job

    return Job.objects.filter(kind="progress_refresh", county_code=county).exists()


def _pdf_text(response):
    from yibao.progress.tests.pdftext import pdf_text

    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if response.status_code == 200 and content.startswith(b"%PDF"):
        return pdf_text(content)
    return content.decode("utf-8", "replace")


def _village(t):
    return {"region": t.village_code, "year": YEAR}


def _township(t):
    return {"region": t.township_code, "year": YEAR}


OPERATIONS = [
    # ------------------------------------------------------------ pages
    ScopeOperation(
        name="progress.page.dashboard_home",
        capability="progress.view",
        call=_get("/progress/", {"year": YEAR}),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="progress.page.dashboard_village",
        capability="progress.view",
        call=_get("/progress/", _village),
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.page.dashboard_township",
        capability="progress.view",
        call=_get("/progress/", _township),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.page.targets",
        capability="progress.view",
        call=_get("/progress/targets/", {"year": YEAR}),
        on_foreign="filter",
        allowed=_lists_targets_unasked,
        shows=lambda t: t.village_name,
        leaks=lambda t: [t.village_name],
    ),
    ScopeOperation(
        name="progress.page.target_edit",
        capability="targets.manage",
        call=_post(lambda t: f"/progress/targets/{t.village_code}/{YEAR}/edit/", lambda t: {"total": "4321", "reason": "矩阵"}),
        shows=lambda t: None,
        leaks=lambda t: [],
        effect=_target_is(4321),
    ),
    ScopeOperation(
        name="progress.page.targets_import",
        capability="targets.manage",
        call=_import_call,
        shows=lambda t: None,
        leaks=lambda t: [],
        deny_status=(302, 403, 404),  # another county's township: refused with a message on the targets page
        effect=_target_is(77),
    ),
    ScopeOperation(
        name="progress.page.remind_village",
        capability="remind.view",
        call=_get("/progress/remind/", lambda t: {"village": t.village_code, "year": YEAR}),
    ),
    ScopeOperation(
        name="progress.page.remind_township",
        capability="remind.view",
        call=_get("/progress/remind/", _township),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.page.remind_mark",
        capability="remind.mark",
        call=_post(lambda t: f"/progress/remind/{t.resident.pk}/mark/", lambda t: {"year": YEAR, "outcome": "contacted"}),
        shows=lambda t: None,
        effect=_marked,
    ),
    # ------------------------------------------------------------ exports
    ScopeOperation(
        name="progress.export.weekly",
        capability="reports.export",
        kind="export",
        call=_get("/progress/reports/weekly.xlsx", _township),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
        read=xlsx_text,
    ),
    ScopeOperation(
        name="progress.export.biweekly_pdf",
        capability="reports.export",
        kind="export",
        call=_get("/progress/reports/biweekly.pdf", _township),
        region=lambda t: t.township_code,
        shows=lambda t: None,  # a 两周通报 lists townships, not villages
        leaks=lambda t: [],
        read=_pdf_text,  # its text, so the matrix searches it for ID numbers
    ),
    ScopeOperation(
        name="progress.export.remind",
        capability="remind.view",
        kind="export",
        call=_get("/progress/remind/export.xlsx", lambda t: {"village": t.village_code, "year": YEAR}),
        read=xlsx_text,
    ),
    ScopeOperation(  # a township's workbook: a sheet per village
        name="progress.export.remind_township",
        capability="remind.view",
        kind="export",
        call=_get("/progress/remind/export.xlsx", lambda t: {"region": t.township_code, "year": YEAR}),
        region=lambda t: t.township_code,
        read=xlsx_text,
    ),
    ScopeOperation(  # a county's workbook
        name="progress.export.remind_county",
        capability="remind.view",
        kind="export",
        call=_get("/progress/remind/export.xlsx", lambda t: {"region": t.county_code, "year": YEAR}),
        region=lambda t: t.county_code,
        read=xlsx_text,
    ),
    # ------------------------------------------------------------ API
    ScopeOperation(
        name="progress.api.overview",
        capability="progress.view",
        kind="api",
        call=_get("/api/progress", _village),
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.api.ranking",
        capability="progress.view",
        kind="api",
        call=_get("/api/progress/ranking", lambda t: {**_township(t), "level": 12}),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.api.history",
        capability="progress.view",
        kind="api",
        call=_get("/api/progress/history", _village),
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.api.targets",
        capability="progress.view",
        kind="api",
        call=_get("/api/progress/targets", {"year": YEAR}),
        on_foreign="filter",
        shows=lambda t: t.village_code,
        leaks=lambda t: [t.village_code],
    ),
    ScopeOperation(
        name="progress.api.target_adjust",
        capability="targets.manage",
        kind="api",
        call=_post(lambda t: f"/api/progress/targets/{t.village_code}/{YEAR}", lambda t: {"total": 4321, "reason": "矩阵"},
                   as_json=True, method="put"),
        shows=lambda t: t.village_code,
        leaks=lambda t: [],
        effect=_target_is(4321),
    ),
    ScopeOperation(
        name="progress.api.renewal",
        capability="remind.view",
        kind="api",
        call=_get("/api/progress/renewal", _township),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
    ),
    ScopeOperation(
        name="progress.api.remind",
        capability="remind.view",
        kind="api",
        call=_get("/api/remind", lambda t: {"village": t.village_code, "year": YEAR}),
    ),
    ScopeOperation(
        name="progress.api.remind_mark",
        capability="remind.mark",
        kind="api",
        call=_post(lambda t: f"/api/remind/{t.resident.pk}/marks", lambda t: {"benefit_year": YEAR, "outcome": "contacted"},
                   as_json=True),
        effect=_marked,
    ),
    ScopeOperation(
        name="progress.api.report",
        capability="reports.export",
        kind="export",
        call=_get("/api/progress/reports/weekly.xlsx", _township),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,
        read=xlsx_text,
    ),
    # ------------------------------------------------------------ starting a recount (a county-wide job)
    ScopeOperation(
        name="progress.page.refresh",
        capability="progress.refresh",
        call=_post(lambda t: "/progress/refresh/", lambda t: {"year": YEAR, "county": t.county_code}),
        on_foreign="none",  # a county account recounts its own county, whatever the form says
        shows=lambda t: None,
        leaks=lambda t: [],
        effect=lambda world, t: _recount_started("421223") and not _recount_started("421321"),  # every user is of 崇阳
        allowed=lambda scope, world, t: scope.can("progress.refresh"),
    ),
    ScopeOperation(
        name="progress.api.refresh",
        capability="progress.refresh",
        kind="api",
        call=_post(lambda t: "/api/progress/refresh", lambda t: {"county_code": t.county_code, "benefit_year": YEAR},
                   as_json=True),
        shows=lambda t: None,
        leaks=lambda t: [],
        allowed=lambda scope, world, t: scope.can("progress.refresh") and scope.county_code == t.county_code,
        effect=lambda world, t: _recount_started(t.county_code),
    ),
]

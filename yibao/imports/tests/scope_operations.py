"""Import operations for the scope matrix (tests/test_scope_matrix.py).

Import history and reports list names and ID numbers of a whole county, so only county-level
accounts of that county see them (a department clerk only their department's lists).
"""

import csv
import tempfile
from pathlib import Path

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text


def _county_reader(scope, world, t):
    return scope.level == 6 and scope.county_code == t.county_code and scope.role != "department_clerk"


def _county_reader_of_full_ids(scope, world, t):
    """Reports quote whole ID numbers: only roles that see them may download."""
    return _county_reader(scope, world, t) and scope.full_id


def _job(t):
    """A finished register import of the target's county whose report names the target's head."""
    import polars as pl

    from yibao.core.models import Job
    from yibao.imports.reports import report_path, report_write

    job = Job.objects.create(
        kind="import_residents", county_code=t.county_code, status=Job.Status.SUCCEEDED, input_name=f"{t.village_name}户籍.csv",
        params={"kind": "residents", "county_code": t.county_code}, result={"rows": 2, "imported": 1, "rejected": 1},
    )
    issues = pl.DataFrame({"_row": [3], "column": ["姓名"], "value": [t.resident.name],
                           "reason": [f"{t.resident.name}：性别与身份证号码不符"], "level": ["error"]})
    job.report_path = str(report_write(issues=issues, path=report_path(job_id=job.pk, kind="residents"), title="测试"))
    job.save(update_fields=["report_path"])
    return job


def _upload(client, kind, header, row, **data):
    folder = Path(tempfile.mkdtemp(prefix="scope-"))
    path = folder / f"{kind}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, row])
    with open(path, "rb") as fh:
        return client.post("/api/imports/jobs", {"file": fh, "kind": kind, **data})


def _registered(world, t):
    from yibao.registry.models import Resident

    return Resident.objects.filter(id_number=t.new_id).exists()


def _enrolled_2019(world, t):
    from yibao.enrollment.models import Enrollment

    return Enrollment.objects.filter(resident_id=t.resident.pk, benefit_year=2019, campaign__imported=True).exists()


def _veteran(world, t):
    from yibao.registry.models import GroupFact

    return GroupFact.objects.filter(resident_id=t.resident.pk, group="veteran").exists()


def _orphan(world, t):
    from yibao.registry.models import Identity

    return Identity.objects.filter(resident_id=t.resident.pk, code="orphan").exists()


OPERATIONS = [
    ScopeOperation(
        name="imports.page.jobs",
        capability="jobs.view",
        call=lambda client, world, t: client.get("/imports/"),
        on_foreign="none",
        shows=lambda t: "名单导入",
    ),
    ScopeOperation(
        name="imports.page.upload_form",
        capability="residents.import",
        call=lambda client, world, t: client.get("/imports/new/residents/"),
        on_foreign="none",
        shows=lambda t: "户主身份证号码",
    ),
    ScopeOperation(
        name="imports.page.upload_enrollments",
        capability="enrollments.import",
        call=lambda client, world, t: client.get("/imports/new/enrollments/"),
        on_foreign="none",
        shows=lambda t: "险种类型",
    ),
    ScopeOperation(
        name="imports.page.job",
        capability="jobs.view",
        call=lambda client, world, t: client.get(f"/imports/{_job(t).pk}/"),
        allowed=_county_reader,
    ),
    ScopeOperation(
        name="imports.page.history",
        capability="jobs.view",
        call=lambda client, world, t: (_job(t), client.get("/imports/"))[1],
        on_foreign="filter",
        allowed=_county_reader,
        shows=lambda t: f"{t.village_name}户籍.csv",
        leaks=lambda t: [f"{t.village_name}户籍.csv"],
    ),
    ScopeOperation(
        name="imports.export.report",
        capability="jobs.view",
        kind="export",
        call=lambda client, world, t: client.get(f"/jobs/{_job(t).pk}/report"),
        allowed=_county_reader_of_full_ids,
        read=xlsx_text,
    ),
    ScopeOperation(
        name="imports.api.jobs",
        capability="jobs.view",
        kind="api",
        call=lambda client, world, t: (_job(t), client.get("/api/imports/jobs"))[1],
        on_foreign="filter",
        allowed=_county_reader,
        shows=lambda t: f"{t.village_name}户籍.csv",
        leaks=lambda t: [f"{t.village_name}户籍.csv"],
    ),
    ScopeOperation(
        name="imports.api.job",
        capability="jobs.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/imports/jobs/{_job(t).pk}"),
        allowed=_county_reader,
        shows=lambda t: f"{t.village_name}户籍.csv",
        leaks=lambda t: [f"{t.village_name}户籍.csv"],
    ),
    ScopeOperation(
        name="imports.api.start_residents",
        capability="residents.import",
        kind="api",
        call=lambda client, world, t: _upload(
            client, "residents", ["身份证号码", "姓名", "村（社区）"], [t.new_id, "新登记", t.village_code],
            county_code=t.county_code,
        ),
        region=lambda t: t.county_code,
        shows=lambda t: '"imported": 1',
        effect=_registered,
    ),
    ScopeOperation(
        name="imports.api.start_identities",
        capability="identities.import",
        kind="api",
        call=lambda client, world, t: _upload(
            client, "identities", ["身份证号码", "身份类别"], [t.resident.id_number, "孤儿"],
            county_code=t.county_code, department="minzheng",
        ),
        region=lambda t: t.county_code,
        shows=lambda t: '"imported": 1',
        effect=_orphan,
    ),
    ScopeOperation(
        name="imports.api.start_enrollments",
        capability="enrollments.import",
        kind="api",
        call=lambda client, world, t: _upload(
            client, "enrollments", ["身份证号码", "姓名", "参保年度", "参保状态", "险种类型"],
            [t.resident.id_number, t.resident.name, "2019", "正常参保", "390"], county_code=t.county_code,
        ),
        region=lambda t: t.county_code,
        shows=lambda t: '"imported": 1',
        effect=_enrolled_2019,
    ),
    ScopeOperation(
        name="imports.page.upload_groups",
        capability="groups.import",
        call=lambda client, world, t: client.get("/imports/new/groups/"),
        on_foreign="none",
        shows=lambda t: "学校/单位",
    ),
    ScopeOperation(
        name="imports.api.start_groups",
        capability="groups.import",
        kind="api",
        call=lambda client, world, t: _upload(
            client, "groups", ["身份证号码", "退役日期"], [t.resident.id_number, "2020-01-01"],
            county_code=t.county_code, group="退役军人",
        ),
        region=lambda t: t.county_code,
        shows=lambda t: '"imported": 1',
        effect=_veteran,
    ),
]

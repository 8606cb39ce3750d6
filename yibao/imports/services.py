"""Imports of lists: read, validate every row, write the valid ones in ONE transaction, report the rest.

Semantics (docs/imports.md):
- Row level: rows that fail validation are left out and listed in an xlsx report (行号, 列, 值, 原因);
  the valid rows are imported.
- All or nothing per file: the writes of one file are one transaction; a crash leaves the
  database as it was.
- Idempotent: importing the same file again changes nothing (row_hash / field comparison).
- A changed row updates the record and writes an event with before/after.
- The Job row is the import history: who, when, file name and sha256, parameters and counts.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from yibao.accounts.roles import Department, Role
from yibao.accounts.scope import actor_scope
from yibao.core.jobs import JobFailed
from yibao.core.models import Job
from yibao.core.progress import NullProgress, Progress
from yibao.core.services import event_bulk_record, job_create, job_outcome_record
from yibao.core.uploads import table_upload_store
from yibao.imports import writers
from yibao.imports.groups import group_param, groups_reassess, groups_write, validate_groups
from yibao.imports.columns import KIND_LABELS
from yibao.imports.readers import ImportFileError, read_table
from yibao.imports.reports import report_path, report_write
from yibao.imports.validation import (
    VALIDATORS,
    Checked,
    Context,
    department_code,
    department_name,
    row_hashes,
)
from yibao.policy.vocabulary import UnknownTerm, group_name
from yibao.regions.models import Region
from yibao.registry.models import Resident

JOB_KINDS = {
    "regions": "import_regions",
    "residents": "import_residents",
    "identities": "import_identities",
    "employees": "import_employees",
    "enrollments": "import_enrollments",
    "groups": "import_groups",
}
KIND_OF_JOB = {v: k for k, v in JOB_KINDS.items()}
VALIDATORS = {**VALIDATORS, "groups": validate_groups}
CAPABILITIES = {
    "regions": "regions.import",
    "residents": "residents.import",
    "identities": "identities.import",
    "employees": "employees.import",
    "enrollments": "enrollments.import",
    "groups": "groups.import",
}
NEEDS_COUNTY = {"residents", "identities", "employees", "enrollments", "groups"}


# ---- authorisation and jobs ---------------------------------------------------------------------


def import_authorize(*, actor, kind: str, county_code: str = "", department: str = "") -> None:
    """Whether this actor may run this import (the command line may run any)."""
    scope = actor_scope(actor)
    if scope is None:
        return
    scope.require(CAPABILITIES[kind])
    if county_code:
        if scope.region_code and not county_code.startswith(scope.county_code):
            raise PermissionDenied(f"县 {county_code} 不在当前账号的管辖范围内。")
    if kind == "identities" and scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        if department != scope.department:
            raise PermissionDenied(f"部门名单报送员只能导入本部门（{department_name(scope.department)}）的名单。")


def import_params_check(*, kind: str, county_code: str = "", department: str = "", group: str = "") -> tuple[str, str]:
    """Normalised (county_code, department or, for group lists, the group code); a ValidationError
    with a Chinese message otherwise."""
    if kind not in JOB_KINDS:
        raise ValidationError(f"未知的导入类型：{kind}（应为 {'、'.join(JOB_KINDS)}）")
    county_code = (county_code or "").strip()
    if kind in NEEDS_COUNTY:
        if not county_code:
            raise ValidationError("请指定县级区划代码。")
        if not (county_code.isdigit() and len(county_code) == 6):
            raise ValidationError(f"县级区划代码应为6位数字：{county_code}")
        if not Region.objects.filter(code=county_code).exists():
            raise ValidationError(f"未知的县级区划代码：{county_code}（请先导入行政区划）")
    dept = ""
    if kind == "identities":
        dept = department_code(department) or ""
        if not department:
            raise ValidationError("请指定名单的认定部门（如 民政、残联、卫健、乡村振兴、退役军人事务，或 医保 表示汇总名单）。")
        if not dept:
            raise ValidationError(f"未知的部门：{department}（应为 {'、'.join(Department.labels)} 之一）")
    if kind == "groups":
        if not (group or "").strip():
            raise ValidationError("请指定名单的参保群体（如 新生儿、在校大学生、刑满释放人员、退役军人）。")
        try:
            dept = group_param(group)
        except UnknownTerm as exc:
            raise ValidationError(str(exc)) from None
    return county_code, dept


def upload_store(*, uploaded) -> Path:
    """Keep an uploaded file under MEDIA_ROOT/imports/ (nothing is lost: the job points at it)."""
    return table_upload_store(uploaded=uploaded, area="imports")


def import_job_create(
    *, kind: str, path: str | Path, file_name: str = "", county_code: str = "", department: str = "", actor=None,
    dry_run: bool = False, group: str = "",
) -> Job:
    """Check the parameters and the actor's scope, then record the job (the import history row).

    dry_run: a 试导入: the same reading, validation, writers and counts, all rolled back at the end; the
    job is marked params["dry_run"] and its report is kept, nothing else is written."""
    county_code, dept = import_params_check(kind=kind, county_code=county_code, department=department, group=group)
    if kind == "groups":
        group, dept = dept, ""
    import_authorize(actor=actor, kind=kind, county_code=county_code, department=dept)
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"找不到文件：{path}")
    return job_create(
        kind=JOB_KINDS[kind],
        county_code=county_code,
        params={"kind": kind, "county_code": county_code, "department": dept} | ({"group": group} if group else {})
        | ({"dry_run": True} if dry_run else {}),
        input_name=(file_name or path.name)[:255],
        input_path=str(path.resolve()),
        actor=actor,
    )


class _DryRunRollback(Exception):
    """Raised at the end of a 试导入 to roll back everything it wrote."""


def import_job_commit(*, job: Job, actor=None) -> Job:
    """The 正式导入 of a finished 试导入: a new job for the same stored file and parameters."""
    if not job.dry_run:
        raise ValidationError(f"任务 #{job.pk} 不是试导入。")
    if job.status != Job.Status.SUCCEEDED:
        raise ValidationError(f"试导入 #{job.pk} {job.get_status_display()}，不能据此正式导入；请修正文件后重新上传。")
    params = job.params or {}
    if not Path(job.input_path).exists():
        raise ValidationError(f"试导入 #{job.pk} 的文件已不存在，请重新上传。")
    return import_job_create(kind=params["kind"], path=job.input_path, file_name=job.input_name,
                             county_code=params.get("county_code", ""), department=params.get("department", ""),
                             group=params.get("group", ""), actor=actor)


def import_run(*, job: Job, progress: Progress) -> dict:
    """The body of every import job runner (tasks.py). A 试导入 runs the same, inside a transaction
    that is rolled back: its counts and report are those of the real import, and nothing stays."""
    if not (job.params or {}).get("dry_run"):
        return _import_run(job=job, progress=progress)
    outcome = {}
    try:
        with transaction.atomic():
            outcome = _import_run(job=job, progress=progress)
            raise _DryRunRollback
    except _DryRunRollback:
        pass
    job.committed_at = None  # what it recorded inside the transaction is gone with it
    return outcome | {"dry_run": True}


def _import_run(*, job: Job, progress: Progress) -> dict:
    kind = KIND_OF_JOB[job.kind]
    params = job.params or {}
    actor = job.created_by or job.created_by_name or None
    options = {"path": job.input_path, "actor": actor, "job": job, "progress": progress, "file_name": job.input_name}
    try:
        import_authorize(actor=job.created_by, kind=kind, county_code=params.get("county_code", ""),
                         department=params.get("department", ""))
        if kind == "regions":
            return regions_import(**options)
        if kind == "residents":
            return residents_import(county_code=params["county_code"], **options)
        if kind == "identities":
            return identities_import(county_code=params["county_code"], department=params["department"], **options)
        if kind == "enrollments":
            return enrollments_import(county_code=params["county_code"], **options)
        if kind == "groups":
            return groups_import(county_code=params["county_code"], group=params["group"], **options)
        return employees_import(county_code=params["county_code"], **options)
    except (ImportFileError, PermissionDenied) as exc:
        raise JobFailed(str(exc)) from None


# ---- the pipeline -------------------------------------------------------------------------------


def _reason(kind: str, file_name: str, job: Job | None) -> str:
    return f"{KIND_LABELS[kind]}导入：{file_name}" + (f"（任务 #{job.pk}）" if job else "")


def _read_and_check(kind: str, path, ctx_for, progress: Progress) -> Checked:
    progress.step("读取文件")
    table = read_table(path, kind)
    progress.step(f"校验 {table.df.height} 行")
    ctx = ctx_for(table)
    return VALIDATORS[kind](table, ctx)


def _result(checked: Checked, counts: dict) -> dict:
    result = {
        "rows": checked.total,
        "imported": counts.get("imported", 0),
        "updated": counts.get("updated", 0),
        "unchanged": counts.get("unchanged", 0),
        "rejected": checked.rejected,
        "warnings": checked.warned,
    }
    for extra in ("flagged", "households", "skipped", "campaigns", "years", "review", "group"):
        if extra in counts:
            result[extra] = counts[extra]
    return result


def _record(kind: str, checked: Checked, counts: dict, job: Job | None, file_name: str) -> None:
    """Inside the file's transaction: the job's counts and report lines commit with its rows."""
    job_outcome_record(job=job, result=_result(checked, counts) | {"report": None}, issues=checked.issues,
                       report_kind=kind, report_title=_report_title(kind, file_name))


def _report_title(kind: str, file_name: str) -> str:
    return f"{KIND_LABELS[kind]}导入报告：{file_name}"


def _finish(kind: str, checked: Checked, counts: dict, job: Job | None, file_name: str, progress=None) -> dict:
    """After the commit: the error report (made again from the job's data if this step is cut short)."""
    report = None
    if checked.issues.height:
        if progress is not None:
            progress.step(f"写入错误报告（{checked.issues.height} 条）")
        path = report_path(job_id=job.pk if job else None, kind=kind)
        report = str(report_write(issues=checked.issues, path=path, title=_report_title(kind, file_name)))
    result = _result(checked, counts)
    result["report"] = report
    return result


def regions_import(*, path, actor=None, job=None, progress: Progress | None = None, file_name: str = "") -> dict:
    """区划代码 + 名称; the level and parent follow from the code. New codes are added, names updated."""
    progress = progress or NullProgress()
    file_name = file_name or Path(path).name
    scope = actor_scope(actor)

    def ctx_for(table):
        return Context(
            file_format=table.file_format,
            known_regions=set(Region.objects.values_list("code", flat=True)),
            allowed_prefix=scope.region_code[:6] if scope and scope.region_code else "",
        )

    checked = _read_and_check("regions", path, ctx_for, progress)
    rows = checked.rows
    progress.start(rows.height, "写入行政区划")
    with transaction.atomic():
        existing = dict(Region.objects.filter(code__in=rows["code"].to_list()).values_list("code", "name"))
        new = rows.filter(~pl.col("code").is_in(list(existing))).sort(pl.col("code").str.len_chars(), "code")
        renamed = [
            (code, existing[code], name) for code, name in rows.select("code", "name").iter_rows()
            if code in existing and existing[code] != name
        ]
        Region.objects.bulk_create(
            [Region(code=c, name=n, level=len(c), parent_id=p, county_code=c[:6])
             for c, n, p in new.select("code", "name", "parent_code").iter_rows()],
            batch_size=writers.BATCH,
        )
        for code in new.filter(pl.col("code").str.len_chars() < 6)["code"].to_list():  # adopt what was loaded first
            Region.objects.filter(level=len(code) + 2, code__startswith=code, parent__isnull=True).update(parent_id=code)
        if renamed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Region._meta.db_table} SET name = %s WHERE code = %s", [(n, c) for c, _o, n in renamed]
                )
            event_bulk_record(
                rows=(
                    {"county_code": c[:6], "entity": "region", "entity_id": c, "action": "import_update",
                     "before": {"name": o}, "after": {"name": n}, "reason": _reason("regions", file_name, job)}
                    for c, o, n in renamed
                ),
                actor=actor,
            )
        progress.advance(rows.height)
        counts = {"imported": new.height, "updated": len(renamed), "unchanged": rows.height - new.height - len(renamed)}
        _record("regions", checked, counts, job, file_name)
    return _finish("regions", checked, counts, job, file_name, progress)


def _villages(county_code: str) -> list[tuple[str, str, str]]:
    townships = dict(Region.objects.filter(county_code=county_code, level=9).values_list("code", "name"))
    return [
        (code, name, townships.get(code[:9], ""))
        for code, name in Region.objects.filter(county_code=county_code, level=12).values_list("code", "name")
    ]


def residents_import(
    *, path, county_code: str, actor=None, job=None, progress: Progress | None = None, file_name: str = ""
) -> dict:
    """The household register (户籍): residents with their household, head and relation."""
    progress = progress or NullProgress()
    file_name = file_name or Path(path).name
    villages = _villages(county_code)
    if not villages:
        raise ImportFileError(f"县 {county_code} 还没有村（社区）区划：请先导入行政区划。")

    def ctx_for(table):
        return Context(county_code=county_code, file_format=table.file_format, villages=villages)

    checked = _read_and_check("residents", path, ctx_for, progress)
    rows = checked.rows
    progress.step("计算行摘要")
    rows = rows.with_columns(row_hashes(rows, list(checked.present)))
    reason = _reason("residents", file_name, job)
    progress.start(rows.height, "写入数据库")
    with transaction.atomic():
        writers.lock_county(county_code)
        counts = writers.residents_write(
            rows=rows, fields=checked.present, county_code=county_code, actor=actor, reason=reason, progress=progress
        )
        progress.step("核查外县重复登记")
        counts["flagged"] = writers.flags_other_county(
            county_code=county_code, numbers=rows["id_number"], actor=actor, reason=reason
        )
        counts["households"] = counts.pop("households_created", 0)
        _record("residents", checked, counts, job, file_name)
    return _finish("residents", checked, counts, job, file_name, progress)


def resident_lookup(county_code: str):
    """id numbers → (id_number, resident_id, resident_name) of this county's residents."""

    def lookup(numbers: list[str]) -> pl.DataFrame:
        return writers.fetch_by_keys(
            f"SELECT id_number, id, name FROM {Resident._meta.db_table} WHERE county_code = %s AND id_number IN ({{keys}})",
            numbers,
            {"id_number": pl.String, "resident_id": pl.Int64, "resident_name": pl.String},
            [county_code],
        )

    return lookup


def identities_import(
    *, path, county_code: str, department: str, actor=None, job=None, progress: Progress | None = None,
    file_name: str = "",
) -> dict:
    """A department's list of subsidised people; every identity a person holds is kept."""
    progress = progress or NullProgress()
    file_name = file_name or Path(path).name
    dept = department_code(department)
    if not dept:
        raise ImportFileError(f"未知的部门：{department}")

    def ctx_for(table):
        return Context(
            county_code=county_code, department=dept, file_format=table.file_format,
            resident_lookup=resident_lookup(county_code),
        )

    checked = _read_and_check("identities", path, ctx_for, progress)
    progress.start(checked.rows.height, "写入资助身份")
    with transaction.atomic():
        writers.lock_county(county_code)
        counts = writers.identities_write(
            rows=checked.rows, county_code=county_code, job=job, source_name=f"{department_name(dept)}：{file_name}",
            actor=actor, reason=_reason("identities", file_name, job), progress=progress,
        )
        _record("identities", checked, counts, job, file_name)
    return _finish("identities", checked, counts, job, file_name, progress)


def employees_import(
    *, path, county_code: str, actor=None, job=None, progress: Progress | None = None, file_name: str = ""
) -> dict:
    """The 职工医保 list: kept per county, and every resident found on it (any county) is flagged."""
    progress = progress or NullProgress()
    file_name = file_name or Path(path).name

    def ctx_for(table):
        return Context(county_code=county_code, file_format=table.file_format)

    checked = _read_and_check("employees", path, ctx_for, progress)
    reason = _reason("employees", file_name, job)
    progress.start(checked.rows.height, "写入职工医保名单")
    with transaction.atomic():
        writers.lock_county(county_code)
        counts = writers.employees_write(
            rows=checked.rows, county_code=county_code, job=job, actor=actor, reason=reason, progress=progress
        )
        progress.step("标记重复参保")
        flagged = writers.flags_employee_insurance(rows=checked.rows, source_name=file_name, actor=actor, reason=reason)
        flagged += writers.flags_other_county(county_code=county_code, actor=actor, reason=reason)
        counts["flagged"] = flagged
        _record("employees", checked, counts, job, file_name)
    return _finish("employees", checked, counts, job, file_name, progress)


# ---- 历年参保名单 ---------------------------------------------------------------------------------


def claim_lookup(county_code: str):
    """id numbers → (id_number, benefit_year, county_code) of live enrollments in OTHER counties
    (the cross-county claims, looked up by ID number, never joined); the county as messages name it
    (yibao.regions.selectors.county_label)."""
    from yibao.enrollment.models import EnrollmentClaim
    from yibao.regions.selectors import county_labels

    def lookup(numbers: list[str]) -> pl.DataFrame:
        found = writers.fetch_by_keys(
            f"SELECT id_number, benefit_year, county_code FROM {EnrollmentClaim._meta.db_table} "
            "WHERE released_at IS NULL AND county_code <> %s AND id_number IN ({keys})",
            numbers,
            {"id_number": pl.String, "benefit_year": pl.Int64, "county_code": pl.String},
            [county_code],
        )
        labels = county_labels(found.get_column("county_code").unique().to_list())
        return found.with_columns(pl.col("county_code").replace_strict(labels, default=pl.col("county_code")))

    return lookup


def enrollments_import(
    *, path, county_code: str, actor=None, job=None, progress: Progress | None = None, file_name: str = ""
) -> dict:
    """上年参保名单 / 历年参保名单 from the national platform: past years' enrollments of this county's
    residents, each year under a closed history campaign (created when missing). Years opened in
    Yibao are refused: there Yibao's own records count."""
    from yibao.core.clock import business_today
    from yibao.enrollment.models import Campaign
    from yibao.enrollment.services import CampaignError, campaign_history_ensure
    from yibao.imports.validation import ENROLLMENT_STATUS_LABELS

    progress = progress or NullProgress()
    file_name = file_name or Path(path).name
    opened = dict(
        Campaign.objects.filter(county_code=county_code, imported=False).values_list("benefit_year", "policy_id")
    )

    def ctx_for(table):
        return Context(
            county_code=county_code, file_format=table.file_format, today=business_today(),
            resident_lookup=resident_lookup(county_code), opened_years=opened, claim_lookup=claim_lookup(county_code),
        )

    checked = _read_and_check("enrollments", path, ctx_for, progress)
    refused = checked.extra.get("refused_years", {})
    years_in_file = checked.extra.get("years", [])
    if years_in_file and set(years_in_file) <= set(refused):
        raise ImportFileError("；".join(refused[y] for y in sorted(refused)) + "。")
    reason = _reason("enrollments", file_name, job)
    label = pl.col("status").replace_strict(ENROLLMENT_STATUS_LABELS, return_dtype=pl.String)
    rows = checked.rows.with_columns(
        pl.when(pl.col("amount").is_not_null())
        .then(pl.format("历年参保名单导入：{}，缴费 {} 元", label, pl.col("amount")))
        .otherwise(pl.format("历年参保名单导入：{}", label)).alias("status_reason"),
    )
    rows = rows.with_columns(row_hashes(rows, ["benefit_year", "status", "benefit_start", "benefit_end", "amount"]))
    years = sorted(rows["benefit_year"].unique().to_list())
    progress.start(rows.height, "写入参保记录")
    with transaction.atomic():
        writers.lock_county(county_code)
        campaigns, created = {}, 0
        for year in years:
            try:
                campaign, new = campaign_history_ensure(county_code=county_code, benefit_year=year, actor=actor,
                                                        reason=reason)
            except CampaignError as exc:  # opened in Yibao since the file was checked
                raise ImportFileError(str(exc)) from None
            campaigns[year], created = campaign.pk, created + new
        counts = writers.enrollments_write(
            rows=rows, campaigns=campaigns, county_code=county_code, actor=actor, reason=reason, progress=progress,
        ) if rows.height else {"imported": 0, "updated": 0, "unchanged": 0}
        counts.update({"skipped": checked.skipped, "campaigns": created, "years": years})
        _record("enrollments", checked, counts, job, file_name)
    if counts["imported"] or counts["updated"]:
        from yibao.progress.services import progress_refresh_enqueue

        for year in years:  # next year's 12-10 comparison reads these rows
            progress_refresh_enqueue(county_code=county_code, benefit_year=year + 1, actor=actor)
    return _finish("enrollments", checked, counts, job, file_name, progress)


# ---- 参保群体名单 ---------------------------------------------------------------------------------


def groups_import(
    *, path, county_code: str, group: str, actor=None, job=None, progress: Progress | None = None, file_name: str = "",
) -> dict:
    """A list of one 参保群体 (新生儿, 在校大学生, 刑满释放人员 ...): the residents' group facts with
    the event date, school or employer and end date; then the people whose group changed are
    re-assessed, and those whose amount or benefit date changed make the review list (`review`)."""
    from yibao.core.clock import business_today

    progress = progress or NullProgress()
    file_name = file_name or Path(path).name
    group = group_param(group)

    def ctx_for(table):
        return Context(county_code=county_code, group=group, file_format=table.file_format, today=business_today(),
                       resident_lookup=resident_lookup(county_code))

    checked = _read_and_check("groups", path, ctx_for, progress)
    reason = _reason("groups", file_name, job)
    progress.start(checked.rows.height, f"写入参保群体（{group_name(group)}）")
    with transaction.atomic():
        writers.lock_county(county_code)
        counts, touched = groups_write(
            rows=checked.rows, county_code=county_code, job=job, source_name=f"{group_name(group)}：{file_name}",
            actor=actor, reason=reason, progress=progress,
        )
        review = groups_reassess(county_code=county_code, touched=touched, group=group, actor=actor, reason=reason,
                                 progress=progress)
        if review.height:
            checked.issues = pl.concat([checked.issues, review]).sort("_row", maintain_order=True)
        counts.update({"review": review.height, "group": group})
        _record("groups", checked, counts, job, file_name)
    return _finish("groups", checked, counts, job, file_name, progress)

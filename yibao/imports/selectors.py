"""Reads of the imports app: the import history a scope may see, and the choices of the upload form."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from yibao.accounts.roles import Department, Role
from yibao.core.models import Job
from yibao.imports.services import CAPABILITIES, JOB_KINDS
from yibao.regions.models import Region

# the departments that certify identities; 医保 uploads the county's summary list
LIST_DEPARTMENTS = (
    Department.MINZHENG, Department.CANLIAN, Department.WEIJIAN, Department.XIANGCUN, Department.TUIYI, Department.YIBAO,
)


def import_kinds(*, scope) -> list[str]:
    """The kinds of list this scope may upload."""
    return [kind for kind, capability in CAPABILITIES.items() if scope.can(capability)]


def import_job_list(*, scope, kind: str | None = None):
    """Import jobs the scope may see. Reports hold names and ID numbers of the whole file, so only
    county-level accounts see them: their county's jobs; a department clerk only their department's lists."""
    jobs = Job.objects.filter(kind__in=list(JOB_KINDS.values()))
    if kind:
        jobs = jobs.filter(kind=JOB_KINDS.get(kind, "-"))
    if scope.superuser and not scope.region_code:
        return jobs
    if scope.level != 6:
        return jobs.none()
    jobs = jobs.filter(county_code=scope.county_code)
    if scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        jobs = jobs.filter(kind=JOB_KINDS["identities"], params__department=scope.department)
    return jobs


def import_job_get(*, scope, pk: int) -> Job:
    return get_object_or_404(import_job_list(scope=scope), pk=pk)


def county_choices(*, scope) -> list[tuple[str, str]]:
    counties = Region.objects.filter(level=6)
    if scope.region_code:
        counties = counties.filter(code=scope.county_code)
    return [(c.code, f"{c.name}（{c.code}）") for c in counties]


def department_choices(*, scope) -> list[tuple[str, str]]:
    if scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        return [(scope.department, Department(scope.department).label)] if scope.department in Department.values else []
    return [(d.value, "医保（县医保局汇总名单）" if d == Department.YIBAO else d.label) for d in LIST_DEPARTMENTS]


def department_identities(*, scope, department: str | None = None, job_id: int | None = None, q: str | None = None):
    """The identities on a department's lists, within the scope: a department clerk sees only its own
    department's; other roles may pick a department. `job_id` keeps those the given list last wrote."""
    from django.db.models import Q

    from yibao.accounts.roles import department_values
    from yibao.registry.models import Identity

    rows = Identity.objects.select_related("resident")
    if scope.region_code:
        rows = scope.filter(rows.filter(county_code=scope.county_code), prefix="resident__")
    if scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        department = scope.department or "-"
    if department:
        rows = rows.filter(department__in=department_values(department))
    if job_id:
        rows = rows.filter(source_job_id=job_id)
    q = (q or "").strip()
    if q:
        if q.isdigit() or (q[:-1].isdigit() and q[-1:] in "xX"):
            rows = rows.filter(resident__id_number__endswith=q.upper()) if len(q) < 18 else rows.filter(
                resident__id_number=q.upper())
        else:
            rows = rows.filter(Q(resident__name__startswith=q))
    return rows.order_by("resident__village_code", "resident_id", "code")

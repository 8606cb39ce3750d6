"""Job runners of the imports; pages enqueue them, the CLI runs them in-process."""

from yibao.core.jobs import job_runner
from yibao.imports.services import import_run


@job_runner("import_regions", label="行政区划导入")
def run_region_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)


@job_runner("import_residents", label="户籍名单导入")
def run_resident_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)


@job_runner("import_identities", label="资助身份名单导入")
def run_identity_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)


@job_runner("import_employees", label="职工医保名单导入")
def run_employee_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)


@job_runner("import_enrollments", label="历年参保名单导入")
def run_enrollment_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)


@job_runner("import_groups", label="参保群体名单导入")
def run_group_import(*, job, progress) -> dict:
    return import_run(job=job, progress=progress)

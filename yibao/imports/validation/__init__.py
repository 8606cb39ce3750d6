"""Check every row of a list at once (polars), collecting Chinese reasons per row and column.

Each `validate_<kind>` takes the Table from readers.py and a Context, and returns a Checked:
the rows that may be written (canonical columns) and the issues (row, column, value, reason,
level "error" or "warning"). A row with any error is rejected; warnings never reject.
Distinct values (villages, identities, dates, departments) are resolved once each in Python.

One module a list: the register and regions (`register`), department and 职工医保 lists (`lists`),
历年参保名单 (`enrollments`); what they share is in `common`.
"""

from yibao.imports.validation.common import (
    EXCEL_EPOCH,
    HEAD_RELATIONS,
    ISSUE_SCHEMA,
    SEX_LABELS,
    SEX_VALUES,
    Checked,
    Context,
    IssueLog,
    department_code,
    department_name,
    identity_department,
    map_distinct,
    parse_date_text,
    row_hashes,
)
from yibao.imports.validation.enrollments import (
    ENROLLMENT_STATUS,
    ENROLLMENT_STATUS_LABELS,
    FIRST_ROSTER_YEAR,
    INSUTYPE_LABELS,
    INSUTYPE_NAMES,
    RESIDENT_INSUTYPE,
    validate_enrollments,
)
from yibao.imports.validation.lists import validate_employees, validate_identities
from yibao.imports.validation.register import validate_regions, validate_residents

VALIDATORS = {
    "regions": validate_regions,
    "residents": validate_residents,
    "identities": validate_identities,
    "employees": validate_employees,
    "enrollments": validate_enrollments,
}

__all__ = [
    "ENROLLMENT_STATUS", "ENROLLMENT_STATUS_LABELS", "EXCEL_EPOCH", "FIRST_ROSTER_YEAR", "HEAD_RELATIONS",
    "INSUTYPE_LABELS", "INSUTYPE_NAMES", "ISSUE_SCHEMA", "RESIDENT_INSUTYPE", "SEX_LABELS", "SEX_VALUES", "VALIDATORS",
    "Checked", "Context", "IssueLog", "department_code", "department_name", "identity_department", "map_distinct",
    "parse_date_text", "row_hashes", "validate_employees", "validate_enrollments", "validate_identities",
    "validate_regions", "validate_residents",
]

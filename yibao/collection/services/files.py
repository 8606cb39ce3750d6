"""Channel files (渠道缴费明细): storing an upload and creating its ingest job."""

from __future__ import annotations

from yibao.accounts.scope import actor_scope
from yibao.collection.services.common import (
    PaymentError,
)
from yibao.core.uploads import TABLE_SUFFIXES as UPLOAD_SUFFIXES  # noqa: F401 (re-exported)


def payment_file_store(*, uploaded):
    """Keep an uploaded channel file under MEDIA_ROOT/collection/ (the job points at it; nothing is lost)."""


    from yibao.core.uploads import FileRefused, table_upload_store

    try:
        return table_upload_store(uploaded=uploaded, area="collection")
    except FileRefused as exc:
        raise PaymentError(str(exc)) from None


def payment_file_county_check(county_code: str | None) -> str:
    """The county a channel file is ingested for, checked before anything is stored: "" (the file's
    ID numbers decide) or the code of a county in the region list; PaymentError otherwise."""
    from yibao.collection.ingest import IngestError, ingest_county_check

    try:
        return ingest_county_check(county_code)
    except IngestError as exc:
        raise PaymentError(str(exc)) from None


def payment_file_job_create(*, path, actor, county_code: str | None = None, file_name: str = ""):
    """The Job that ingests one channel file (the import history row: who, when, file, sha256, counts)."""
    from pathlib import Path

    from yibao.collection.tasks import INGEST_KIND
    from yibao.core.services import job_create

    county_code = payment_file_county_check(county_code)
    scope = actor_scope(actor)
    if scope is not None:
        scope.require("payments.ingest")
        if scope.region_code:
            county_code = county_code or scope.county_code
            scope.require_region(county_code)
    if not Path(path).exists():
        raise PaymentError(f"找不到文件：{path}")
    return job_create(
        kind=INGEST_KIND, county_code=county_code, params={"county_code": county_code} if county_code else {},
        input_name=file_name or Path(path).name, input_path=str(path), actor=actor,
    )

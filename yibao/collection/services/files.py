"""Channel files (渠道缴费明细): storing an upload and creating its ingest job."""

from __future__ import annotations

from django.utils import timezone

from yibao.accounts.scope import actor_scope
from yibao.collection.services.common import (
    PaymentError,
)

UPLOAD_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}


def payment_file_store(*, uploaded):
    """Keep an uploaded channel file under MEDIA_ROOT/collection/ (the job points at it; nothing is lost)."""
    import re
    import uuid
    from pathlib import Path

    from django.conf import settings

    name = Path(uploaded.name or "payments.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise PaymentError(f"不支持的文件类型“{suffix or name}”：请上传 CSV 或 xlsx 表格。")
    from yibao.core.uploads import FileRefused, stored_upload_check, upload_check

    try:
        upload_check(uploaded)
    except FileRefused as exc:
        raise PaymentError(str(exc)) from None
    folder = Path(settings.MEDIA_ROOT) / "collection" / timezone.localtime().strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.()（）-]+", "_", name)[-120:]
    path = folder / f"{uuid.uuid4().hex[:12]}-{safe}"
    with open(path, "wb") as fh:
        for chunk in uploaded.chunks():
            fh.write(chunk)
    try:
        stored_upload_check(path)
    except FileRefused as exc:
        raise PaymentError(str(exc)) from None
    return path


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

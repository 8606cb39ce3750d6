"""Job runners of the collection area: ingesting a channel payment file."""

from yibao.core.jobs import JobFailed, job_runner

INGEST_KIND = "ingest_payments"


@job_runner(INGEST_KIND, label="渠道缴费明细导入")
def run_payment_ingest(*, job, progress) -> dict:
    from yibao.collection.ingest import IngestError, payments_ingest
    from yibao.imports.readers import ImportFileError

    try:
        return payments_ingest(
            path=job.input_path, actor=job.created_by or job.created_by_name or None,
            county_code=job.county_code or job.params.get("county_code") or None, job=job, progress=progress,
        )
    except (IngestError, ImportFileError) as exc:
        raise JobFailed(str(exc)) from None

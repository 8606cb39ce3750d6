"""Writes of the collection area, one module a subject: counter payments (`counter`), receipts
(`receipts`), refunds (`refunds`), 重新匹配 (`recheck`), 先缴后补 (`subsidy`) and channel files
(`files`). Each service is atomic and writes an event row for every change of money or status;
all are callable without a request (the demo and the CLI use them) and are imported from here.
"""

from yibao.collection.services.common import (
    CENT,
    PaymentError,
    explanation_store,
    progress_refresh_after_commit,
    progress_refresh_deferred,
    receipt_no_format,
    receipt_number_take,
    receipt_series_lock,
)
from yibao.collection.services.counter import (
    CounterPlan,
    CounterResult,
    counter_plan,
    payment_collect,
    payment_top_up,
    top_up_plan,
)
from yibao.collection.services.files import (
    UPLOAD_SUFFIXES,
    payment_file_county_check,
    payment_file_job_create,
    payment_file_store,
)
from yibao.collection.services.receipts import receipt_print, receipt_void, receipt_void_plan
from yibao.collection.services.recheck import payment_recheck
from yibao.collection.services.refunds import (
    DEFAULT_ENROLLMENT_ACTION,
    REASON_ALIASES,
    UNBOOKED_FLAGS,
    refund_approve,
    refund_book,
    refund_plan,
    refund_reason_code,
    refund_reject,
    refund_request,
)
from yibao.collection.services.subsidy import (
    subsidy_refunds_approve,
    subsidy_refunds_export,
    subsidy_refunds_pay,
)

__all__ = [
    "CENT", "CounterPlan", "counter_plan", "receipt_void_plan", "refund_plan", "top_up_plan", "DEFAULT_ENROLLMENT_ACTION", "REASON_ALIASES", "UNBOOKED_FLAGS", "UPLOAD_SUFFIXES", "CounterResult",
    "PaymentError", "explanation_store", "payment_collect", "payment_file_county_check", "payment_file_job_create", "payment_file_store",
    "payment_recheck", "payment_top_up", "progress_refresh_after_commit", "progress_refresh_deferred",
    "receipt_no_format", "receipt_number_take", "receipt_print", "receipt_series_lock", "receipt_void",
    "refund_approve", "refund_book", "refund_reason_code", "refund_reject", "refund_request",
    "subsidy_refunds_approve", "subsidy_refunds_export", "subsidy_refunds_pay",
]

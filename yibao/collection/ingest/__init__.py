"""Channel files: the payment detail of the tax bureau or a bank, booked in bulk.

Row-level: a row with a broken field (ID number, year, amount, time …) is rejected into the xlsx
error report (row, column, value, reason); every other row is written, all in one transaction
per file. Nothing loops the ORM: polars validates, residents and their identities are looked up
in bulk through a staging table, the policy engine's bulk form quotes each county-year once per
decision key, and rows are written by COPY on PostgreSQL or executemany on SQLite.

Each row ends up as one of:
  unchanged  — its payment id (缴费流水号) is already booked for the county, or repeats an
               identical line of the same file;
  booked     — the amount is what the policy gives on that day: enrollment registered or
               renewed and marked paid with the policy's benefit dates, 先缴后补 opened;
  flagged    — stored as a payment under 待处理 with a flag and advice, never booked silently:
               unknown_person, duplicate (already paid), blocked (may not enroll),
               not_accepted (the policy refuses that date, or the gate of every booking path
               does: dated after the business day, a closed or history year),
               under / over (amount differs);
  rejected   — broken fields, or a year the county has not opened: listed in the report.

One module a step: `rows` (columns, reading, checks, county), `frames` (bulk SQL helpers),
`decide` (gate, facts, quote, flags), `write` (bulk writes and events), `run` (the ingest itself).
"""

from yibao.collection.ingest.frames import copy_rows, sqlite_cache
from yibao.collection.ingest.rows import (
    KIND,
    KIND_LABEL,
    PAYMENT_COLUMNS,
    IngestError,
    channel_code,
    check_rows,
    county_of,
    ingest_county_check,
)
from yibao.collection.ingest.run import payments_ingest

__all__ = [
    "KIND", "KIND_LABEL", "PAYMENT_COLUMNS", "IngestError", "channel_code", "check_rows", "copy_rows", "county_of",
    "ingest_county_check", "payments_ingest", "sqlite_cache",
]

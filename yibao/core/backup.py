"""Backups that can be restored: one dated file plus a manifest that proves it whole.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while
the service runs. PostgreSQL: `pg_dump --format=custom` from an exported snapshot, so the counts in
the manifest describe exactly the rows in the dump. Restore checks the checksum and the vendor,
writes only into an empty database, and counts the restored rows against the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from yibao.core.services import file_sha256

MANIFEST_SUFFIX = ".manifest.json"
FORMAT_VERSION = 1

# The tables a county checks after a restore: (key, model, money field summed in cents or None).
KEY_TABLES = [
    ("households", "registry.Household", None),
    ("residents", "registry.Resident", None),
    ("identities", "registry.Identity", None),
    ("enrollments", "enrollment.Enrollment", None),
    ("payments", "collection.Payment", "amount"),
    ("receipts", "collection.Receipt", "total"),
    ("receipt_lines", "collection.ReceiptLine", "amount"),
    ("refunds", "collection.Refund", "amount"),
    ("subsidy_refunds", "collection.SubsidyRefund", "amount"),
    ("events", "core.Event", None),
    ("jobs", "core.Job", None),
    ("users", "accounts.User", None),
]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is Chinese and says why."""


def _key_queries() -> list[tuple[str, str]]:
    """One SQL per key table giving (rows, money in cents); the same SQL runs on both vendors."""
    queries = []
    for key, label, money in KEY_TABLES:
        model = apps.get_model(label)
        table = model._meta.db_table
        if money:
            column = model._meta.get_field(money).column
            sql = f'SELECT COUNT(*), COALESCE(SUM(CAST(ROUND("{column}" * 100) AS BIGINT)), 0) FROM "{table}"'
        else:
            sql = f'SELECT COUNT(*), 0 FROM "{table}"'
        queries.append((key, sql, bool(money)))
    return queries


def _count(cursor) -> dict:
    """Rows (and money, exact to the fen) of the key tables, read through a DB-API cursor."""
    totals = {}
    for key, sql, has_money in _key_queries():
        cursor.execute(sql)
        rows, cents = cursor.fetchone()
        entry = {"rows": int(rows)}
        if has_money:
            entry["amount"] = str((Decimal(int(cents)) / 100).quantize(Decimal("0.01")))
        totals[key] = entry
    return totals


def key_totals(*, using: str = "default") -> dict:
    """The key tables' rows and money on a configured database (a restored one, or the live one)."""
    with connections[using].cursor() as cursor:
        return _count(cursor)


def _migrations(cursor) -> dict:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    state: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        state.setdefault(app, []).append(name)
    return state


def _stamp(now: dt.datetime) -> str:
    return timezone.localtime(now).strftime("%Y%m%d-%H%M%S")


def _pg_env(using: str) -> dict:
    """libpq settings for pg_dump/pg_restore; the password travels in the environment, not argv."""
    cfg = connections[using].settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                     ("PGDATABASE", "NAME")):
        if cfg.get(key):
            env[var] = str(cfg[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同一主版本的 PostgreSQL 客户端（Debian：apt install postgresql-client）。")
    return path


def _run(argv: list[str], env: dict, what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what}失败：{detail[-1] if detail else f'退出码 {done.returncode}'}")


def _backup_sqlite(using: str, target: Path) -> tuple[dict, dict]:
    connection = connections[using]
    connection.ensure_connection()
    dest = sqlite3.connect(target)
    try:
        connection.connection.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        cursor = dest.cursor()
        totals, state = _count(cursor), _migrations(cursor)
    finally:
        dest.close()
    return totals, state


def _backup_postgresql(using: str, target: Path) -> tuple[dict, dict]:
    """pg_dump reads the snapshot this transaction exported, so the counts match the dump exactly."""
    pg_dump = _pg_tool("pg_dump")
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("备份不能在事务中进行。")
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        totals, state = _count(cursor), _migrations(cursor)
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              f"--file={target}"], _pg_env(using), "pg_dump 备份")
    return totals, state


def backup_create(*, out_dir: str | Path | None = None, using: str = "default", now: dt.datetime | None = None) -> dict:
    """Write `yibao-<county time>.<ext>` and its manifest into out_dir (default VAR_DIR/backups)."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份 {vendor} 数据库。")
    out = Path(out_dir) if out_dir else Path(settings.VAR_DIR) / "backups"
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法创建备份目录 {out}：{exc.strerror or exc}") from None
    now = now or timezone.now()
    name = f"yibao-{_stamp(now)}.{'sqlite3' if vendor == 'sqlite' else 'pgdump'}"
    target = out / name
    if target.exists():
        raise BackupError(f"备份文件已存在：{target}")
    partial = out / (name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # a backup holds every ID number of the county: readable by the service account only
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise BackupError(f"无法在备份目录 {out} 中写入：{exc.strerror or exc}") from None
    try:
        if vendor == "sqlite":
            totals, state = _backup_sqlite(using, partial)
        else:
            totals, state = _backup_postgresql(using, partial)
        partial.rename(target)  # only a finished backup carries the final name
    finally:
        partial.unlink(missing_ok=True)
    manifest = {
        "format": FORMAT_VERSION,
        "file": name,
        "sha256": file_sha256(target),
        "size": target.stat().st_size,
        "vendor": vendor,
        "created_at": timezone.localtime(now).isoformat(),
        "migrations": state,
        "totals": totals,
    }
    manifest_path = out / (name + MANIFEST_SUFFIX)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    manifest_path.chmod(0o600)
    return {**manifest, "path": str(target), "manifest_path": str(manifest_path)}


def manifest_read(path: str | Path) -> dict:
    """The manifest beside a backup file, checked against the file's size and sha256."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}")
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    if not manifest_path.is_file():
        raise BackupError(f"找不到备份清单 {manifest_path.name}：没有清单无法核对备份是否完整，拒绝恢复。")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected_sha, expected_size, vendor = manifest["sha256"], int(manifest["size"]), manifest["vendor"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"备份清单 {manifest_path.name} 已损坏，无法核对备份，拒绝恢复。") from None
    size = path.stat().st_size
    if size != expected_size:
        raise BackupError(f"备份文件大小 {size} 字节与清单记录的 {expected_size} 字节不符：文件不完整或已损坏，拒绝恢复。")
    actual = file_sha256(path)
    if actual != expected_sha:
        raise BackupError(f"备份文件校验和（SHA-256）与清单不符：文件已损坏或被替换，拒绝恢复。"
                          f"清单 {expected_sha[:12]}…，实际 {actual[:12]}…")
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"备份清单中的数据库类型无法识别：{vendor}")
    return manifest


VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _existing_tables(using: str) -> list[str]:
    connection = connections[using]
    with connection.cursor() as cursor:
        return connection.introspection.table_names(cursor)


def backup_restore(*, path: str | Path, using: str = "default") -> dict:
    """Restore a checked backup into the (empty) database `using`, then recount its key tables."""
    manifest = manifest_read(path)
    connection = connections[using]
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"这是 {VENDOR_NAMES[manifest['vendor']]} 的备份，不能恢复到 "
                          f"{VENDOR_NAMES.get(connection.vendor, connection.vendor)} 数据库。")
    tables = _existing_tables(using)
    if tables:
        raise BackupError(f"目标数据库不是空的（已有 {len(tables)} 张表，例如 {tables[0]}）：恢复只写入空数据库，"
                          "以免覆盖现有数据。请新建一个空数据库并让 DATABASE_URL 指向它，再恢复。")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
    else:
        pg_restore = _pg_tool("pg_restore")
        env = _pg_env(using)
        connection.close()  # pg_restore works on its own connection
        _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={env.get('PGDATABASE', '')}", str(path)], env, "pg_restore 恢复")
    totals = key_totals(using=using)
    differ = [key for key, entry in manifest["totals"].items() if totals.get(key) != entry]
    if differ:
        raise BackupError(f"恢复后的数据与备份清单不符：{'、'.join(differ)}。请勿使用此数据库，并检查备份。")
    known = {(app, name) for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    in_backup = {(app, name) for app, names in manifest.get("migrations", {}).items() for name in names}
    return {
        "path": str(path),
        "vendor": manifest["vendor"],
        "created_at": manifest["created_at"],
        "sha256": manifest["sha256"],
        "totals": totals,
        "pending_migrations": len(known - in_backup),
        "unknown_migrations": sorted(f"{app}.{name}" for app, name in in_backup - known),
    }

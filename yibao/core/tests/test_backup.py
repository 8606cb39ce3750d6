"""Backups that restore: a year's work comes back whole into a fresh database, on SQLite and,
when the suite runs there, on PostgreSQL; corrupt files and non-empty targets are refused."""

import json
import os
import shutil
import stat
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum
from django.db.utils import load_backend
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.backup import BackupError, backup_create, backup_restore

pytestmark = pytest.mark.django_db(transaction=True)  # the backup reads committed rows, as in service

runner = CliRunner()
ALIAS = "restored"


@pytest.fixture
def fresh_database(tmp_path):
    """A second, empty database of the same vendor, reachable as the alias `restored`."""
    default = connections["default"]
    cfg = dict(default.settings_dict)
    if default.vendor == "postgresql":
        if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
            pytest.skip("未安装 pg_dump/pg_restore（postgresql-client），无法测试 PostgreSQL 备份")
        cfg["NAME"] = f"{default.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
        with default.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    else:
        cfg["NAME"] = str(tmp_path / "restored.sqlite3")
    # a connection made here, outside settings.DATABASES, which the test case allows
    connections[ALIAS] = load_backend(cfg["ENGINE"]).DatabaseWrapper(cfg, ALIAS)
    yield ALIAS
    connections[ALIAS].close()
    del connections[ALIAS]
    if default.vendor == "postgresql":
        with default.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


def _year_of_work():
    """The demo county part-way through its year: registered, assessed, paid (counter and
    channel), receipted, refunded, 先缴后补 and reconciled, with the events of each change."""
    from yibao.demo.build import demo_build
    from yibao.demo.year import demo_year

    demo_build(residents=300, seed=5)
    demo_year(seed=5)


def _snapshot(using):
    from yibao.collection.models import (
        Payment,
        Receipt,
        ReceiptLine,
        Refund,
        SubsidyRefund,
    )
    from yibao.core.models import Event
    from yibao.enrollment.models import Enrollment
    from yibao.registry.models import Household, Resident

    def rows(model, *fields):
        return list(model.objects.using(using).order_by("pk").values_list("pk", *fields))

    def money(model, field):
        return model.objects.using(using).aggregate(total=Sum(field))["total"]

    return {
        "households": rows(Household, "number"),
        "residents": rows(Resident, "id_number", "name", "status"),
        "enrollments": rows(Enrollment, "resident_id", "benefit_year", "kind"),
        "payments": rows(Payment, "resident_id", "amount", "status", "channel", "refund_later"),
        "receipts": rows(Receipt, "number", "total"),
        "receipt_lines": rows(ReceiptLine, "receipt_id", "amount"),
        "refunds": rows(Refund, "payment_id", "amount", "status"),
        "subsidy_refunds": rows(SubsidyRefund, "resident_id", "amount", "status"),
        "events": rows(Event, "entity", "entity_id", "action", "at"),
        "sums": {
            "payments": money(Payment, "amount"), "receipts": money(Receipt, "total"),
            "refunds": money(Refund, "amount"), "subsidy_refunds": money(SubsidyRefund, "amount"),
        },
    }


def test_a_year_of_work_comes_back_whole_in_a_fresh_database(fresh_database, tmp_path):
    _year_of_work()
    before = _snapshot("default")
    for key in ("residents", "payments", "receipts", "refunds", "subsidy_refunds", "events"):
        assert before[key], f"演示年度应有{key}"

    made = runner.invoke(app, ["backup", "--out", str(tmp_path / "bk"), "--json"])
    assert made.exit_code == 0, made.stderr
    manifest = json.loads(made.stdout)
    assert manifest["vendor"] == connections["default"].vendor and len(manifest["sha256"]) == 64
    assert manifest["totals"]["payments"]["rows"] == len(before["payments"])
    assert Decimal(manifest["totals"]["payments"]["amount"]) == before["sums"]["payments"]
    assert "0001_initial" in manifest["migrations"]["core"]
    assert stat.S_IMODE(os.stat(manifest["path"]).st_mode) == 0o600  # every ID number of the county is in it
    on_disk = json.loads((tmp_path / "bk" / (manifest["file"] + ".manifest.json")).read_text(encoding="utf-8"))
    assert on_disk["sha256"] == manifest["sha256"] and on_disk["size"] == manifest["size"]

    # work goes on after the backup; the backup holds the moment it was taken
    from yibao.core.services import event_record

    event_record(county_code="340321", entity="payment", entity_id="after-backup", action="booked")

    restored = backup_restore(path=manifest["path"], using=fresh_database)
    assert restored["totals"] == manifest["totals"] and restored["unknown_migrations"] == []
    after = _snapshot(fresh_database)
    for key in before:
        if key != "events":
            assert after[key] == before[key], key
    assert after["events"] == before["events"]  # every event of the year, and not the later one
    assert _snapshot("default")["events"][-1][2] == "after-backup"


def test_restore_refuses_a_corrupt_or_mismatched_file_in_chinese(fresh_database, tmp_path):
    from yibao.registry.models import Household

    Household.objects.create(county_code="340321", township_code="340321100", village_code="340321100201",
                             number="H1")
    made = backup_create(out_dir=tmp_path)
    path = made["path"]
    with open(path, "r+b") as fh:  # same size, one byte changed
        fh.seek(made["size"] // 2)
        byte = fh.read(1)
        fh.seek(made["size"] // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(BackupError, match="校验和.*不符.*拒绝恢复"):
        backup_restore(path=path, using=fresh_database)
    with open(path, "ab") as fh:
        fh.write(b"tail")
    with pytest.raises(BackupError, match="大小.*不符"):
        backup_restore(path=path, using=fresh_database)
    (tmp_path / (made["file"] + ".manifest.json")).unlink()
    with pytest.raises(BackupError, match="找不到备份清单"):
        backup_restore(path=path, using=fresh_database)
    assert connections[fresh_database].introspection.table_names() == []  # nothing was written


def test_restore_writes_only_into_an_empty_database(tmp_path):
    made = backup_create(out_dir=tmp_path)
    refused = runner.invoke(app, ["restore", made["path"]])
    assert refused.exit_code == 1
    assert "目标数据库不是空的" in refused.stderr and "Traceback" not in refused.stderr


def test_restore_refuses_another_vendors_backup(fresh_database, tmp_path):
    made = backup_create(out_dir=tmp_path)
    manifest_path = tmp_path / (made["file"] + ".manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["vendor"] = "postgresql" if manifest["vendor"] == "sqlite" else "sqlite"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupError, match="的备份，不能恢复到"):
        backup_restore(path=made["path"], using=fresh_database)


def test_backup_cli_without_a_writable_folder_is_a_chinese_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["backup", "--out", str(blocker / "sub")])
    assert result.exit_code == 1 and "无法创建备份目录" in result.stderr

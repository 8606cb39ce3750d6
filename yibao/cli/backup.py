"""CLI commands for backups: `yibao backup` and `yibao restore FILE` (over yibao.core.backup)."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.cli.common import django_setup, emit_json, fail

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")

TOTAL_LABELS = {
    "households": "户", "residents": "居民", "identities": "资助身份", "enrollments": "参保登记",
    "payments": "缴费", "receipts": "票据", "receipt_lines": "票据明细", "refunds": "退费",
    "subsidy_refunds": "先缴后补", "events": "变更记录", "jobs": "后台任务", "users": "账号",
}


def _totals_text(totals: dict) -> str:
    parts = []
    for key, entry in totals.items():
        text = f"{TOTAL_LABELS.get(key, key)} {entry['rows']}"
        if "amount" in entry:
            text += f"（{entry['amount']} 元）"
        parts.append(text)
    return "，".join(parts)


def backup(
    out: Path = typer.Option(None, "--out", help="备份目录，默认 var/backups"),
    as_json: bool = JSON,
):
    """备份数据库：带日期的备份文件，旁边是清单（SHA-256、大小、数据库类型、迁移状态、主要数据的条数与金额）。
    SQLite 用在线备份接口，PostgreSQL 用 pg_dump（custom 格式）；备份期间服务照常运行。"""
    django_setup()
    from yibao.core.backup import BackupError, backup_create

    try:
        result = backup_create(out_dir=out)
    except BackupError as exc:
        fail(str(exc), code=1)
    if as_json:
        emit_json(result)
        return
    typer.echo(f"已备份到 {result['path']}（{result['size']} 字节，SHA-256 {result['sha256']}）", err=True)
    typer.echo(f"清单：{result['manifest_path']}", err=True)
    typer.echo(_totals_text(result["totals"]), err=True)


def restore(
    file: Path = typer.Argument(..., help="备份文件（同目录下须有它的 .manifest.json 清单）"),
    as_json: bool = JSON,
):
    """从备份恢复：先核对清单中的校验和，只恢复到空数据库（DATABASE_URL 指向的库），恢复后逐表核对条数与金额。"""
    django_setup()
    from yibao.core.backup import BackupError, backup_restore

    try:
        result = backup_restore(path=file)
    except BackupError as exc:
        fail(str(exc), code=1)
    if as_json:
        emit_json(result)
        return
    typer.echo(f"已从 {result['path']}（{result['created_at']} 的备份）恢复，条数与金额与清单一致：", err=True)
    typer.echo(_totals_text(result["totals"]), err=True)
    if result["unknown_migrations"]:
        typer.echo(f"注意：备份来自更新的版本，含本程序不认识的迁移 {', '.join(result['unknown_migrations'])}；"
                   "请升级程序后再使用。", err=True)
    elif result["pending_migrations"]:
        typer.echo(f"备份之后程序有 {result['pending_migrations']} 个新迁移：请运行 python manage.py migrate。", err=True)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)

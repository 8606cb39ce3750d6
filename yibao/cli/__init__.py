"""The `yibao` console script: a thin shell over the services.

Each module registers its commands on the root app; output for machines goes to stdout as
JSON (--json), progress bars and messages for people go to stderr.
"""

import typer

app = typer.Typer(
    name="yibao",
    help="医保征缴：城乡居民基本医疗保险参保征缴命令行工具",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    import importlib

    for name in ("policy", "accounts", "registry", "campaign", "collection", "counter", "progress", "remindmark",
                 "reports", "lifecycle", "flags", "reconciliation", "jobs", "events", "backup", "search", "status"):
        try:
            module = importlib.import_module(f"yibao.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"yibao.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main() -> None:
    app()

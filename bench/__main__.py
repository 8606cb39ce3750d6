"""`make bench` (`python -m bench`): run the registered benchmarks.

    make bench                                  # every benchmark, 1,000,000 rows
    make bench BENCH_ARGS="--rows 200000"       # a quicker run
    make bench BENCH_ARGS="--only imports --databases sqlite"
    make bench BENCH_ARGS="--only scale"        # 10 counties × 1,000,000 residents, PostgreSQL only
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
import time

import bench
from bench import BENCHMARKS


def discover() -> None:
    """Import every module of bench/ so each registers its @benchmark functions."""
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in {"__main__", "locustfile"}:  # locust patches the stdlib: its own process only
            importlib.import_module(f"bench.{module.name}")


def main(argv=None) -> None:
    discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description="Yibao 基准测试")
    parser.add_argument("--rows", type=int, default=1_000_000, help="名单行数（默认 1,000,000）")
    parser.add_argument("--naive-rows", type=int, default=10_000, help="逐行 ORM 基线实测的行数，再按比例推算")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="只运行某个基准（可重复）")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite、postgresql，逗号分隔")
    parser.add_argument("--load-seconds", type=int, default=60, help="负载基准每个案例对每个服务施压的秒数（默认 60）")
    parser.add_argument("--counties", type=int, default=10, help="省级规模基准的县数（默认 10，每县 --rows 人）")
    parser.add_argument("--counter-payments", type=int, default=200, help="省级规模基准每县窗口收款笔数（默认 200）")
    parser.add_argument("--keep-database", action="store_true", help="省级规模基准结束后保留 PostgreSQL 库 yibao_bench_scale")
    parser.add_argument("--resume", action="store_true",
                        help="省级规模基准接着 --workdir 里上次中断的运行继续（库还在；已完成年度的县跳过）")
    parser.add_argument("--workdir", default=None, help="数据与临时数据库所在目录（默认新建临时目录）")
    options = parser.parse_args(argv)
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    if options.workdir is None:
        options.workdir = tempfile.mkdtemp(prefix="yibao-bench-")
    for name in options.only or list(BENCHMARKS):
        item = BENCHMARKS[name]
        print(f"== {item.title} ==", flush=True)
        started = time.perf_counter()
        item.run(options)
        print(f"（用时 {time.perf_counter() - started:.0f} 秒，工作目录 {options.workdir}）", file=sys.stderr)


if __name__ == "__main__":
    main()

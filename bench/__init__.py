"""`make bench`: benchmarks that print their figure beside a baseline measured in the same run.

A benchmark is a function registered with @benchmark; it takes the parsed options and returns
nothing (it prints). Later issues add theirs to BENCHMARKS the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    run: Callable


# a measured time that rounds to 0 (a tiny --rows run) still divides
TINY = 0.001

BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str, title: str):
    def register(func: Callable) -> Callable:
        BENCHMARKS[name] = Benchmark(name, title, func)
        return func

    return register

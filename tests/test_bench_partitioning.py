"""The partitioning benchmark at a tiny size on PostgreSQL: both layouts hold the same rows, a county's
queries plan one partition, a lookup without the county plans every one, adding and dropping a county work."""

import os

import pytest


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.skipif(not _postgres_answers(), reason="PostgreSQL 未在 127.0.0.1:5432 应答")
def test_partitioned_and_plain_layouts_agree_and_prune(capsys):
    from bench import partitioning

    figures = partitioning.run(per_county=1000, echo=True, database=f"yibao_bench_partitioning_t{os.getpid()}")
    plain, part = figures["plain"], figures["part"]
    assert plain["rows"] == part["rows"]
    residents = plain["rows"]["registry_resident"]
    assert partitioning.COUNTIES[4] not in residents  # the dropped county is gone
    assert residents[partitioning.NEW_COUNTY] == 1000 and len(residents) == 10
    assert part["progress_keyed_partitions"] == 1  # the county in the join: one partition of each table
    assert part["remind_partitions"] >= 1 and part["remind_village_partitions"] >= 1
    assert part["person_partitions"] == 10
    out = capsys.readouterr().out
    assert "普通表" in out and "按县分区" in out and "删除一县" in out

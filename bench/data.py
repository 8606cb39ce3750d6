"""A synthetic household register of any size, generated fast with polars (valid ID numbers)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰文辉志明春梅海燕淑珍永胜德山桂芝凤英小红金花玉珍")
HOUSEHOLD_SIZES = [3, 2, 4, 1, 5, 3, 2, 4, 6, 3, 2, 1, 4, 3, 5, 2]
HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "村（社区）", "联系电话"]
SPAN_DAYS = 30_941  # 1939-01-01 … 2023-09-18: the sequence number keeps (birth date, sequence) unique


def register_frame(rows: int, villages: list[str], area: str = "340321") -> pl.DataFrame:
    from yibao.imports.idcheck import check_char_expr

    households, positions = [], []
    number, i = 0, 0
    while i < rows:
        size = min(HOUSEHOLD_SIZES[number % len(HOUSEHOLD_SIZES)], rows - i)
        households.extend([number] * size)
        positions.extend(range(size))
        number += 1
        i += size
    df = pl.DataFrame({"i": pl.int_range(rows, eager=True), "hh": households, "pos": positions})
    v = pl.Series(villages)
    df = df.with_columns(
        ((pl.col("i") % SPAN_DAYS) * 7919 % SPAN_DAYS).alias("day"),
        (pl.col("i") // SPAN_DAYS).alias("q"),
        pl.when(pl.col("pos") == 0).then(1).when(pl.col("pos") == 1).then(0).otherwise(pl.col("i") % 2).alias("male"),
    )
    df = df.with_columns(
        (pl.lit(dt.date(1939, 1, 1)) + pl.duration(days=pl.col("day"))).alias("birth"),
        (100 + pl.col("q") * 2 + pl.col("male")).cast(pl.String).alias("seq"),
    )
    body = pl.concat_str([pl.lit(area), pl.col("birth").dt.strftime("%Y%m%d"), pl.col("seq")])
    df = df.with_columns(body.alias("body"))
    return df.select(
        pl.concat_str([pl.col("body"), check_char_expr(pl.col("body"))]).alias("公民身份号码"),
        pl.concat_str([
            pl.col("hh").map_batches(lambda s: pl.Series(SURNAMES).gather(s * 7 % len(SURNAMES)), return_dtype=pl.String),
            pl.col("i").map_batches(lambda s: pl.Series(GIVEN).gather(s * 13 % len(GIVEN)), return_dtype=pl.String),
            pl.col("i").map_batches(lambda s: pl.Series(GIVEN).gather(s * 17 % len(GIVEN)), return_dtype=pl.String),
        ]).alias("姓名"),
        pl.when(pl.col("male") == 1).then(pl.lit("男")).otherwise(pl.lit("女")).alias("性别"),
        pl.col("birth").dt.strftime("%Y-%m-%d").alias("出生日期"),
        pl.format("B{}", pl.col("hh")).alias("户号"),
        pl.when(pl.col("pos") == 0).then(pl.lit("户主")).when(pl.col("pos") == 1).then(pl.lit("配偶"))
        .when(pl.col("male") == 1).then(pl.lit("子")).otherwise(pl.lit("女")).alias("与户主关系"),
        pl.col("hh").map_batches(lambda s: v.gather(s * 7 % len(v)), return_dtype=pl.String).alias("村（社区）"),
        pl.format("13{}", (pl.col("i") * 7919 % 1_000_000_000).cast(pl.String).str.zfill(9)).alias("联系电话"),
    )


def write_register(path: Path, rows: int, villages: list[str]) -> Path:
    register_frame(rows, villages).write_csv(path)
    return path

"""Rebuild the example task tables from the seed notices (run once; the files are committed).

    .venv/bin/python yibao/progress/tests/data/build_examples.py

xiaoling_2024_tasks.xlsx / .csv: 附表 of notice 000 (肖岭乡), title row, header, the blank row the
notice prints under the header, ten villages (two cells with a trailing space, as printed), 合计.
suixian_2023_targets.xlsx / .csv: 附件 of notice 002 (随县), title, 单位：人, header, 18 towns, 合计, 备注.
"""

import csv
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent

XIAOLING_TITLE = "肖岭乡2024年城乡居民医疗保险和咸惠保征收任务表"
XIAOLING_HEADER = ["村名", "总人口", "应参保人数", "咸惠宝应参保人数"]
XIAOLING = [
    ("白马", 4702, 3731, 961), ("锁石", 2187, 1734, 447), ("三角", 2745, 2178, 561), ("星桥", 2626, 2083, 536),
    ("大堰", 4405, 3495, 900), ("肖岭", 4251, 3373, 869), ("霞星", 4845, 3845, 990), ("台山", 6094, 4835, 1245),
    ("泉陂", 6017, "4773 ", 1229), ("金不", 1268, "1006 ", 259),
]
XIAOLING_TOTAL = ("合计", 39140, 31053, 7997)

SUIXIAN_TITLE = "2023 年城乡居民参保缴费目标分解表"
SUIXIAN_HEADER = ["序号", "镇（场）", "合计", "特群免缴", "其他居民"]
SUIXIAN = [
    ("厉山镇（含经济开发区）", 59813, 1658, 58155), ("高城镇", 19349, 761, 18588), ("殷店镇", 46052, 1551, 44501),
    ("草店镇", 20918, 841, 20077), ("小林镇", 24851, 714, 24137), ("淮河镇", 20940, 728, 20212),
    ("万和镇（含太白顶景区）", 52741, 2054, 50687), ("吴山镇", 24962, 1078, 23884), ("唐县镇", 57194, 2043, 55151),
    ("尚市镇", 34220, 1171, 33049), ("新街镇", 30930, 1193, 29737), ("安居镇", 42240, 1404, 40836),
    ("龙潭镇", 42449, 1781, 40668), ("洪山镇", 55499, 1942, 53557), ("三里岗镇", 29922, 1255, 28667),
    ("柳林镇", 16284, 812, 15472), ("均川镇", 46397, 1651, 44746), ("万福店农场", 18357, 476, 17881),
]
SUIXIAN_TOTAL = ("合计", "", 643118, 23113, 620005)
SUIXIAN_NOTE = "备注：2023 年度参保任务原则维持上年实际参保人数不变，对上年实际参保人数低于常住人口数的按 2022 年实际参保人数增长 1.5%"


def write_xlsx(path: Path, rows: list[list]) -> None:
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "" and value is not None:
                sheet.write(r, c, value)
    book.close()


def write_csv(path: Path, rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def main() -> None:
    xiaoling = [["附表"], [XIAOLING_TITLE], XIAOLING_HEADER, ["", "", "", ""], *[list(r) for r in XIAOLING], list(XIAOLING_TOTAL)]
    write_xlsx(HERE / "xiaoling_2024_tasks.xlsx", xiaoling)
    write_csv(HERE / "xiaoling_2024_tasks.csv", xiaoling)
    suixian = [
        ["附件"], [SUIXIAN_TITLE], ["单位：人"], SUIXIAN_HEADER,
        *[[i, *row] for i, row in enumerate(SUIXIAN, start=1)], list(SUIXIAN_TOTAL), [SUIXIAN_NOTE],
    ]
    write_xlsx(HERE / "suixian_2023_targets.xlsx", suixian)
    write_csv(HERE / "suixian_2023_targets.csv", suixian)


if __name__ == "__main__":
    main()

"""怀远县 (340321) as the demo county: the 22 townships of seed 004's 附件2 with constructed codes.

Township codes follow the national rule for digits 7-9: 0xx 街道, 1xx 镇, 2xx 乡, 4xx 农场.
Village codes: 0xx-1xx 社区（居委会）, 2xx 村（村委会）. The codes are constructed, not the
official statistical codes, and the village names are invented.
"""

from __future__ import annotations

import random

COUNTY_CODE = "340321"
COUNTY_NAME = "怀远县"
POLICY_ID = "anhui-huaiyuan-2025"
# the demo city above it (GB/T 2260), so city and province accounts have something to watch
PROVINCE_CODE, PROVINCE_NAME = "34", "安徽省"
CITY_CODE, CITY_NAME = "3403", "蚌埠市"

# 附件2《怀远县2024年度城乡居民基本医疗保险参保缴费工作包片督查安排表》, in its order
TOWNSHIPS = (
    "望淮街道", "榴城镇", "龙亢镇", "淝南镇", "褚集镇", "双桥集镇", "淝河乡", "古城镇", "包集镇", "陈集镇", "魏庄镇",
    "白乳泉街道", "引凤街道", "荆山镇", "白莲坡镇", "常坟镇", "唐集镇", "万福镇", "兰桥镇", "徐圩乡", "河溜镇", "龙亢农场",
)

_COMMUNITY_WORDS = ("新城", "淮河", "禹王", "涂山", "荆涂", "乳泉", "东关", "西关", "南城", "北城", "花园", "淮滨", "文昌", "幸福")
_VILLAGE_SURNAMES = ("张", "王", "李", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗")
_VILLAGE_SUFFIXES = ("庄", "圩", "集", "湖", "郢", "岗", "店", "台", "桥", "洼", "楼", "营")


def township_codes(county_code: str = COUNTY_CODE, townships: tuple[str, ...] = TOWNSHIPS) -> list[tuple[str, str]]:
    """(9-digit code, name) in the order of 附件2."""
    counters = {"街道": 0, "镇": 100, "乡": 200, "农场": 400}
    result = []
    for name in townships:
        kind = next(k for k in ("街道", "农场", "乡", "镇") if name.endswith(k))
        if kind == "街道":
            counters[kind] += 1
            number = counters[kind]
        else:
            number = counters[kind]
            counters[kind] += 1
        result.append((f"{county_code}{number:03d}", name))
    return result


def regions(seed: int = 2024, county_code: str = COUNTY_CODE, county_name: str = COUNTY_NAME,
            townships: tuple[str, ...] = TOWNSHIPS) -> list[tuple[str, str]]:
    """The province, city and county, its townships and a few villages (社区/村) each: (code, name)."""
    rng = random.Random(seed)
    rows = [(PROVINCE_CODE, PROVINCE_NAME), (CITY_CODE, CITY_NAME), (county_code, county_name)]
    for code, name in township_codes(county_code, townships):
        rows.append((code, name))
        if name.endswith("街道"):
            communities, villages = rng.randint(3, 5), 0
        elif name.endswith("农场"):
            communities, villages = 1, 2
        else:
            communities, villages = rng.randint(1, 2), rng.randint(3, 5)
        words = rng.sample(_COMMUNITY_WORDS, communities)
        for i, word in enumerate(words, start=1):
            rows.append((f"{code}{i:03d}", f"{word}社区"))
        used = set()
        for i in range(villages):
            while True:
                village = rng.choice(_VILLAGE_SURNAMES) + rng.choice(_VILLAGE_SUFFIXES) + "村"
                if village not in used:
                    used.add(village)
                    break
            rows.append((f"{code}{200 + i + 1:03d}", village))
    return rows

"""The demo city: 蚌埠市 (3403) holds 怀远县 (the demo county) and a second, smaller county, 五河县 (340322),
so the city's and the province's accounts have counties to compare.

五河县 has no notice among the seeds. Its demo policy is 怀远县's file (seed 004) under another id and
locality, titled as a demo, and installed through `yibao policy install` like any county's new policy;
its references still quote seed 004, word for word, and say nothing 五河县's own notice would say.
The townships are 五河县's real ones (GB/T 2260 gives only the county code); their 9- and 12-digit
codes are constructed like 怀远县's.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from yibao.demo.county import CITY_CODE, CITY_NAME, POLICY_ID, PROVINCE_CODE, PROVINCE_NAME

SECOND_CODE = "340322"
SECOND_NAME = "五河县"
SECOND_POLICY_ID = "anhui-wuhe-2025"  # a demo policy: its title and first lines say so
SECOND_TOWNSHIPS = (
    "城关镇", "新集镇", "小溪镇", "双忠庙镇", "小圩镇", "东刘集镇", "头铺镇", "大新镇", "武桥镇", "申集镇", "朱顶镇",
    "浍南镇", "沱湖乡", "临北回族乡",
)
SECOND_SEED = 2025  # another seed than 怀远县's: other names, other households


def second_policy_text() -> tuple[str, str]:
    """(policy YAML, cases YAML) of 五河县's demo policy: 怀远县's file under the demo id and locality."""
    from yibao.policy.loader import BUILTIN_DIR

    policy = (BUILTIN_DIR / f"{POLICY_ID}.yaml").read_text(encoding="utf-8")
    cases = (BUILTIN_DIR / f"{POLICY_ID}.cases.yaml").read_text(encoding="utf-8")
    banner = (
        "# 演示用政策：五河县没有种子通知。本文件是怀远县方案（种子 004）换成五河县的编号与区划，\n"
        "# 只用于演示市级汇总；引用仍是怀远县通知的原文。\n"
    )
    policy = re.sub(r"^id: .*$", f"id: {SECOND_POLICY_ID}", policy, count=1, flags=re.M)
    policy = re.sub(r"^title: .*$", "title: 五河县2025年度城乡居民医保参保缴费（演示：沿用怀远县方案）", policy,
                    count=1, flags=re.M)
    policy = policy.replace("  county: 怀远县\n", f"  county: {SECOND_NAME}\n", 1)
    policy = policy.replace('  region_prefix: "340321"\n', f'  region_prefix: "{SECOND_CODE}"\n', 1)
    cases = re.sub(r"^policy: .*$", f"policy: {SECOND_POLICY_ID}", cases, count=1, flags=re.M)
    return banner + policy, cases


def install_second_policy(*, actor) -> str:
    """Install 五河县's demo policy through the real install path (once; a second run leaves it)."""
    from yibao.policy.loader import PolicyNotFound, load_policy
    from yibao.policy.services import policy_install

    try:
        load_policy(SECOND_POLICY_ID)
        return SECOND_POLICY_ID
    except PolicyNotFound:
        pass
    policy, cases = second_policy_text()
    with tempfile.TemporaryDirectory(prefix="yibao-demo-policy-") as tmp:
        path = Path(tmp) / f"{SECOND_POLICY_ID}.yaml"
        path.write_text(policy, encoding="utf-8")
        (Path(tmp) / f"{SECOND_POLICY_ID}.cases.yaml").write_text(cases, encoding="utf-8")
        policy_install(path=path, actor=actor)
    return SECOND_POLICY_ID


def demo_city(*, residents: int = 1500, seed: int = SECOND_SEED, progress_factory=None, with_year: bool = True) -> dict:
    """The second county under the demo city, built and run through its year like 怀远县, and the accounts
    above the county (city, city tax bureau, province) and 五河县's own administrator."""
    from yibao.demo.build import DEMO_ACTOR, demo_build

    policy_id = install_second_policy(actor=DEMO_ACTOR)
    summary = demo_build(residents=residents, seed=seed, progress_factory=progress_factory, county_code=SECOND_CODE,
                         county_name=SECOND_NAME, townships=SECOND_TOWNSHIPS, policy_id=policy_id)
    if with_year:
        from yibao.demo.year import demo_year

        summary["year"] = demo_year(county_code=SECOND_CODE, policy_id=policy_id, seed=seed,
                                    progress_factory=progress_factory)
    return summary


def city_logins_plan() -> list[tuple[str, str, str, str, str]]:
    """(username, role, region, department, display name) of the accounts above 怀远县 and of 五河县."""
    from yibao.accounts.roles import Role

    return [
        ("shi_yibao", Role.CITY_ADMIN, CITY_CODE, "", f"{CITY_NAME}医保局 钱管理"),
        ("shi_shuiwu", Role.CITY_TAX, CITY_CODE, "", f"{CITY_NAME}税务局 郑查看"),
        ("sheng", Role.PROVINCE_VIEWER, PROVINCE_CODE, "", f"{PROVINCE_NAME}医保局 冯查看"),
        ("wuhe_admin", Role.COUNTY_ADMIN, SECOND_CODE, "", f"{SECOND_NAME}医保局 陈管理"),
    ]

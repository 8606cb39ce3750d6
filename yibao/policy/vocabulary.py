"""The words of the policy language: identity codes with their aliases and the department that lists
them, enrollment groups, and the checklist of a notice. This is the repository's copy of the glossary
(../shared/glossary.md); `yibao policy vocabulary`, its page and docs/policy.md are generated from it.

Department lists spell one identity many ways; every code is accepted by itself and by each
alias (exact match after trimming spaces).
"""

from __future__ import annotations

from dataclasses import dataclass


class UnknownTerm(ValueError):
    """An identity or group that the glossary does not know; the message is Chinese."""


@dataclass(frozen=True)
class Identity:
    code: str
    name: str
    aliases: tuple[str, ...]
    department: str
    kind_of: str | None = None


IDENTITIES: tuple[Identity, ...] = (
    Identity("tekun", "特困人员", ("特困人员", "特困供养人员", "城乡特困人员"), "民政"),
    Identity("orphan", "孤儿", ("孤儿",), "民政"),
    Identity(
        "dibao",
        "低保对象",
        ("低保对象", "最低生活保障对象", "最低生活保障家庭成员", "城乡最低生活保障对象", "低保"),
        "民政",
    ),
    Identity("dibao_edge", "低保边缘家庭成员", ("低保边缘家庭成员", "低保边缘"), "民政"),
    Identity("low_income_family", "低收入家庭成员", ("低收入家庭成员", "低收入家庭"), "民政"),
    Identity("unattended_child", "事实无人抚养儿童", ("事实无人抚养儿童",), "民政"),
    Identity("fanpin", "返贫致贫人口", ("返贫致贫人口", "返贫致贫"), "乡村振兴"),
    Identity(
        "monitored",
        "监测对象",
        ("监测对象", "监测人口", "防止返贫监测对象", "纳入监测范围的农村易返贫致贫人口", "易返贫致贫人口"),
        "乡村振兴",
    ),
    Identity("monitored_unstable", "脱贫不稳定人口", ("脱贫不稳定人口", "脱贫不稳定户"), "乡村振兴", "monitored"),
    Identity("monitored_edge", "边缘易致贫人口", ("边缘易致贫人口", "边缘易致贫户"), "乡村振兴", "monitored"),
    Identity("monitored_sudden", "突发严重困难人口", ("突发严重困难人口", "突发严重困难户"), "乡村振兴", "monitored"),
    Identity(
        "poverty_exit_stable", "稳定脱贫人口", ("稳定脱贫人口", "脱贫人口", "已脱贫建档立卡贫困户"), "乡村振兴"
    ),
    Identity(
        "disabled_severe",
        "丧失劳动能力的重度残疾人",
        ("丧失劳动能力的残疾人", "重度残疾人", "丧失劳动能力的重度（二级及以上）残疾人"),
        "残联",
    ),
    Identity("mental_severe", "严重精神障碍患者", ("严重精神障碍患者",), "卫健"),
    Identity(
        "family_planning_special",
        "计划生育特殊困难家庭成员",
        ("计划生育特殊困难家庭成员", "计划生育特殊困难家庭中经核定的特困家庭夫妻及其伤残子女"),
        "卫健",
    ),
    Identity(
        "entitled_group", "重点优抚对象", ("重点优抚对象", "优抚人员", "享受国家抚恤补助的重点优抚对象"), "退役军人事务"
    ),
    Identity("only_daughter_family", "独（双）女户", ("独女户", "双女户", "独（双）女户"), "卫健"),
    Identity("only_son_family", "独男户", ("独男户",), "卫健"),
)

GROUPS: dict[str, str] = {
    "newborn": "新生儿",
    "university_student": "在校大学生",
    "university_freshman": "新生入学的大学生",
    "graduate": "大学毕业生",
    "released_prisoner": "刑满释放人员",
    "veteran": "退役军人",
    "employee_to_resident": "因工作原因职工转居民的务工人员",
    "migrant_worker": "外出务工人员",
    "retired_fisher": "退捕渔民",
}
GROUP_ALIASES: dict[str, str] = {
    "新生儿": "newborn",
    "新生婴儿": "newborn",
    "新出生婴儿": "newborn",
    "在校大学生": "university_student",
    "高校大学生": "university_student",
    "新生入学的大学生": "university_freshman",
    "新入学大中专院校学生": "university_freshman",
    "大学新生": "university_freshman",
    "大学毕业生": "graduate",
    "刑满释放人员": "released_prisoner",
    "退役军人": "veteran",
    "退出现役的军人": "veteran",
    "因工作原因职工转居民的务工人员": "employee_to_resident",
    "职工医保转居民医保": "employee_to_resident",
    "外出务工人员": "migrant_worker",
    "返乡居民": "migrant_worker",
    "退捕渔民": "retired_fisher",
}

IDENTITY_BY_CODE: dict[str, Identity] = {i.code: i for i in IDENTITIES}
_IDENTITY_LOOKUP: dict[str, str] = {}
for _identity in IDENTITIES:
    _IDENTITY_LOOKUP[_identity.code] = _identity.code
    for _alias in _identity.aliases:
        _IDENTITY_LOOKUP[_alias] = _identity.code


def identity_code(text: str) -> str:
    """The glossary code for a code or alias ('低保' → 'dibao'); UnknownTerm otherwise."""
    key = (text or "").strip()
    try:
        return _IDENTITY_LOOKUP[key]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(key, list(_IDENTITY_LOOKUP), n=1, cutoff=0.5)
        hint = ""
        if close:
            code = _IDENTITY_LOOKUP[close[0]]
            hint = f"；最接近的是“{close[0]}”" + (f"（{code}）" if code != close[0] else "")
        raise UnknownTerm(f"未知的资助身份：“{key}”（应为词汇表中的身份代码或名称，如 tekun、低保对象{hint}）") from None


def identity_lookup() -> dict[str, str]:
    """Every accepted spelling mapped to its code (for vectorised imports)."""
    return dict(_IDENTITY_LOOKUP)


def identity_name(code: str) -> str:
    return IDENTITY_BY_CODE[code].name if code in IDENTITY_BY_CODE else code


def group_code(text: str) -> str:
    key = (text or "").strip()
    if key in GROUPS:
        return key
    if key in GROUP_ALIASES:
        return GROUP_ALIASES[key]
    import difflib

    close = difflib.get_close_matches(key, list(GROUPS) + list(GROUP_ALIASES), n=1, cutoff=0.5)
    hint = f"；最接近的是“{close[0]}”" if close else ""
    raise UnknownTerm(f"未知的参保群体：“{key}”（应为 {', '.join(GROUPS)} 之一{hint}）")


def unknown_codes_message(what: str, unknown: list[str], names: dict[str, str], aliases: dict[str, str]) -> str:
    """"未知的身份代码“pinkun”……最接近的是“tekun”" with the valid codes; a name written in place
    of its code points to the code."""
    import difflib

    parts = []
    for word in unknown:
        if word in aliases:
            parts.append(f"“{word}”要写代码 {aliases[word]}（{names[aliases[word]]}）")
            continue
        close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.5) or difflib.get_close_matches(
            word, list(aliases), n=1, cutoff=0.5)
        hint = ""
        if close:
            code = aliases.get(close[0], close[0])
            hint = f"，最接近的是“{code}”（{names[code]}）"
        parts.append(f"“{word}”{hint}")
    valid = "、".join(f"{code}（{name}）" for code, name in names.items())
    return f"未知的{what}：{'；'.join(parts)}。可写：{valid}"


def unknown_identities_message(unknown: list[str]) -> str:
    names = {i.code: i.name for i in IDENTITIES}
    aliases = {alias: code for alias, code in _IDENTITY_LOOKUP.items() if alias != code}
    return unknown_codes_message("身份代码", unknown, names, aliases)


def unknown_groups_message(unknown: list[str]) -> str:
    return unknown_codes_message("参保群体代码", unknown, dict(GROUPS), dict(GROUP_ALIASES))


def group_name(code: str) -> str:
    return GROUPS.get(code, code)


# What a notice usually says; `yibao policy check` warns about each one a file leaves unsaid
# (yibao/policy/checklist.py), unless the file's `checklist:` says why it does not apply.
CHECKLIST_ITEMS: dict[str, str] = {
    "standard": "个人缴费标准（各档次、各群体）",
    "subsidies": "困难群众资助（身份、全额/定额/比例、先缴后补）",
    "windows": "集中征缴期（起止日、每月缴费日）",
    "late_rules": "征缴期外参保缴费（逾期、补缴）的办法",
    "newborns": "新生儿参保（出生多少天内、自何时享受）",
    "students": "在校学生、大学新生参保",
    "mid_year_groups": "中途参保的群体（退役军人、刑满释放人员、职工转居民等）",
    "waiting_periods": "待遇等待期",
    "refunds": "退费",
    "targets": "目标任务（参保率、完成时限、通报）",
}

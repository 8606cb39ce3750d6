"""The columns each kind of list may carry: a key, its Chinese header and the synonyms counties use."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False


ID_SYNONYMS = (
    "身份证号码", "公民身份号码", "证件号码", "身份证号", "居民身份证号码", "身份证件号码", "证件号", "身份证",
    "公民身份证号码", "社会保障号码", "个人身份证号码",
)
NAME_SYNONYMS = ("姓名", "参保人姓名", "人员姓名", "名字", "户主姓名及成员姓名")

KIND_LABELS = {
    "regions": "行政区划",
    "residents": "户籍名单",
    "identities": "部门资助身份名单",
    "employees": "职工医保名单",
    "enrollments": "历年参保名单",
    "groups": "参保群体名单",
}

KIND_COLUMNS: dict[str, tuple[Column, ...]] = {
    "regions": (
        Column("code", "区划代码", ("区划代码", "行政区划代码", "统计用区划代码", "代码", "区划编码", "编码"), True),
        Column("name", "名称", ("名称", "区划名称", "单位名称", "行政区划名称", "地名"), True),
    ),
    "residents": (
        Column("id_number", "身份证号码", ID_SYNONYMS, True),
        Column("name", "姓名", NAME_SYNONYMS, True),
        Column("sex", "性别", ("性别",)),
        Column("birth_date", "出生日期", ("出生日期", "出生年月日", "出生年月", "生日")),
        Column("household", "户号", ("户号", "户编号", "户口簿编号", "户口本编号", "家庭编号")),
        Column(
            "head_id_number", "户主身份证号码",
            ("户主身份证号码", "户主公民身份号码", "户主证件号码", "户主身份证号", "户主身份证"),
        ),
        Column("relation", "与户主关系", ("与户主关系", "与户主的关系", "家庭关系", "关系")),
        Column(
            "region", "村（社区）",
            (
                "村（社区）", "区划代码", "村代码", "村（社区）代码", "村（社区）区划代码", "户籍地区划代码",
                "户籍所在村", "户籍村（社区）", "所在村（社区）", "村（居）委会", "村委会", "村", "社区",
                "村居", "所属村（社区）",
            ),
            True,
        ),
        Column("residence", "居住地", ("居住地", "居住地区划代码", "现居住地", "常住地", "居住地村（社区）")),
        Column("phone", "联系电话", ("联系电话", "电话", "手机号码", "手机号", "联系方式", "手机", "电话号码")),
    ),
    "identities": (
        Column("id_number", "身份证号码", ID_SYNONYMS, True),
        Column("name", "姓名", NAME_SYNONYMS),
        Column(
            "identity", "身份类别",
            ("身份类别", "身份", "资助类别", "人员类别", "资助身份", "身份类型", "资助对象类别", "救助类别", "对象类别",
             "补贴类别", "类别"),
            True,
        ),
        Column("department", "认定部门", ("认定部门", "认定单位", "部门", "认定机关")),
        Column("valid_from", "起始日期", ("起始日期", "开始日期", "认定日期", "生效日期", "起始时间", "开始时间")),
        Column("valid_to", "终止日期", ("终止日期", "结束日期", "截止日期", "失效日期", "终止时间", "结束时间")),
    ),
    "employees": (
        Column("id_number", "身份证号码", ID_SYNONYMS, True),
        Column("name", "姓名", NAME_SYNONYMS),
        Column("employer", "单位", ("单位", "单位名称", "工作单位", "参保单位", "用人单位")),
        Column("insured_from", "参保日期", ("参保日期", "参保时间", "参保开始日期", "参保起始日期", "首次参保日期")),
        Column("months_paid", "缴费月数", ("缴费月数", "缴费月份数", "职工医保缴费月数", "实缴月数", "缴费月份")),
        Column("months_year", "缴费年度", ("缴费年度", "缴费年份", "缴费所属年度")),
    ),
    # a list of one 参保群体 from another office: 公安 births, school rolls, 司法 releases, 退役军人 ...
    "groups": (
        Column("id_number", "身份证号码", ID_SYNONYMS, True),
        Column("name", "姓名", NAME_SYNONYMS),
        Column("group", "参保群体", ("参保群体", "群体", "参保群体类别", "人员群体", "群体类别")),
        Column(
            "event_date", "事件日期",
            ("事件日期", "出生日期", "出生年月日", "入学日期", "入学时间", "毕业日期", "毕业时间", "释放日期",
             "刑满释放日期", "出狱日期", "退役日期", "退出现役日期", "退伍日期", "离职日期", "停保日期", "解除劳动合同日期",
             "外出日期", "外出务工日期", "退捕日期"),
        ),
        Column(
            "place", "学校/单位",
            ("学校/单位", "学校", "学校名称", "就读学校", "毕业学校", "毕业院校", "院校", "单位", "单位名称", "工作单位",
             "原单位", "原工作单位", "用人单位", "务工单位", "服役单位", "原服役单位"),
        ),
        Column("end_date", "终止日期", ("终止日期", "结束日期", "截止日期", "失效日期", "终止时间", "离校日期")),
    ),
    # 上年参保名单 exported from the national 医疗保障信息平台 (one row per person, year and 险种)
    "enrollments": (
        Column("id_number", "身份证号码", ID_SYNONYMS, True),
        Column("name", "姓名", NAME_SYNONYMS),
        Column(
            "year", "参保年度",
            ("参保年度", "待遇年度", "所属年度", "缴费年度", "年度", "参保年份", "所属期", "费款所属期"),
            True,
        ),
        Column(
            "status", "参保状态",
            ("参保状态", "人员参保状态", "参保状态名称", "个人参保状态", "险种参保状态", "参保状态代码"),
            True,
        ),
        Column(
            "benefit_start", "待遇开始日期",
            ("待遇开始日期", "待遇起始日期", "待遇享受开始日期", "享受待遇开始日期", "待遇开始时间", "开始日期"),
        ),
        Column(
            "benefit_end", "待遇终止日期",
            ("待遇终止日期", "待遇结束日期", "待遇截止日期", "待遇享受终止日期", "享受待遇终止日期", "待遇终止时间",
             "终止日期"),
        ),
        Column("amount", "缴费金额", ("缴费金额", "个人缴费金额", "个人缴费", "缴费额", "实缴金额", "个人缴费额")),
        Column("insutype", "险种类型", ("险种类型", "险种", "险种类型名称", "险种名称", "险种代码", "险种类型代码")),
    ),
}

_PARENS = str.maketrans({"(": "（", ")": "）", "：": "", ":": "", "*": "", "＊": ""})
_NOTE = re.compile(r"（(必填|选填|可选|必须|非必填)[^）]*）")


def normalize_header(text) -> str:
    """'村(社区) *' and ' 村（社区）' compare equal; notes like （必填） are dropped."""
    cleaned = "".join(str(text or "").split()).translate(_PARENS).lstrip("\ufeff")
    return _NOTE.sub("", cleaned)


def header_lookup(kind: str) -> dict[str, str]:
    """Every accepted (normalised) header of a kind mapped to its column key."""
    lookup: dict[str, str] = {}
    for column in KIND_COLUMNS[kind]:
        for synonym in (column.label, *column.synonyms):
            lookup.setdefault(normalize_header(synonym), column.key)
    return lookup


def column(kind: str, key: str) -> Column:
    return next(c for c in KIND_COLUMNS[kind] if c.key == key)

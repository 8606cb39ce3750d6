"""Chinese names of the keys of a policy file and a cases file, for error messages and the reference.

A key that is missing here is shown by its pydantic `description` (or by itself), so keys added to
the schema still appear in messages and in docs/policy.md without an edit here.
"""

from __future__ import annotations

import re

# key → short Chinese name
FIELD_LABELS: dict[str, str] = {
    "id": "编号", "title": "标题", "locality": "地区", "province": "省", "city": "市", "county": "县",
    "township": "乡镇", "region_prefix": "区划代码前缀", "benefit_year": "待遇年度", "notice_year": "发文年度",
    "issued_by": "发文单位", "issued_on": "发文日期", "seed": "通知原文文件名",
    "contribution": "筹资标准", "standards": "个人缴费标准", "tier": "档次", "amount": "金额",
    "groups": "参保群体", "label": "名称", "fiscal_subsidy": "财政补助", "split": "分项", "total": "筹资总额",
    "reference": "引用原文", "source": "出处", "note": "理由说明",
    "subsidies": "资助", "single_highest": "就高不就低", "items": "资助项", "age_reference": "年龄计算日",
    "age_reference_note": "年龄计算说明", "deferred": "另按文件执行", "identities": "资助身份",
    "kind": "方式", "percent": "比例", "base": "基数", "stated_amount": "通知写明的金额", "timing": "兑现方式",
    "age_any_of": "年龄条件", "age_applies_to_role": "年龄条件只约束", "requires_any_of": "须同时持有的身份",
    "min": "下限", "below": "上限（不含）", "max": "上限",
    "collection": "征缴", "main_window": "集中征缴期", "start": "起始", "end": "截止", "days_of_month": "每月缴费日",
    "days_by_month": "分月缴费日",
    "first": "首日", "last": "末日", "late_refusal": "逾期不予受理", "reason": "原因",
    "rules": "规则", "when": "条件", "outcome": "结果", "refuse_reason": "不予受理原因",
    "allow_before_year_start": "可早于年度首日", "charge": "收费", "waiting_period": "待遇等待期",
    "anchor": "起算点", "days": "天数", "months": "月数",
    "paid_from": "缴费日不早于", "paid_to": "缴费日不晚于", "paid_in_main_window": "在集中征缴期内缴费",
    "born_in_benefit_year": "在待遇年度内出生", "days_since_birth": "出生后天数", "age_below_years": "未满周岁",
    "has_event_date": "有事件日期", "days_since_event": "事件后天数", "gap_years": "断保年数",
    "renewing": "续保", "any_of": "任一条件",
    "event_from": "事件日期不早于", "event_to": "事件日期不晚于", "within_months_of_event": "事件后N个月内缴费",
    "after_months_of_event": "事件后超过N个月缴费", "employee_months": "职工医保缴费月数",
    "household_enrolled": "同户家庭成员已参保", "recognised_from": "身份认定日期不早于",
    "recognised_to": "身份认定日期不晚于", "fixed_days": "固定等待期天数", "year": "年度",
    "fixed_months": "固定等待期月数", "extra_months_per_gap_year": "每多断保一年加月数",
    "reduce_months_per_backpaid_year": "每补缴一年减月数", "floor": "等待期下限", "max_months": "等待期上限月数",
    "exempt_groups": "不设等待期的群体",
    "refunds": "退费", "allowed_reasons": "可退费的原因", "before_benefit_start_only": "仅限待遇开始前",
    "targets": "目标任务", "enrollment_rate": "参保率", "special_groups_rate": "特殊群体参保率",
    "deadline": "截止日", "reconcile_per_month": "每月对账次数", "publish_every_days": "公布间隔天数",
    "report_every_days": "通报间隔天数",
    "enrollees": "参保对象", "hukou_required": "须本地户籍", "kinds": "类别", "used_by": "由谁执行",
    "suspension": "暂停参保", "reasons": "原因", "notes": "其他规定", "topic": "主题",
    "checklist": "清单确认", "review": "待复核", "item": "清单项",
    # cases files
    "policy": "政策编号", "cases": "用例", "name": "名称", "person": "参保人", "paid_on": "缴费日期",
    "expect": "期望", "birth_date": "出生日期", "group": "参保群体", "event_date": "事件日期",
    "backpaid_years": "补缴年数", "household_role": "家庭角色", "first_time": "首次参保",
    "accepted": "受理", "standard": "个人缴费标准", "subsidy": "资助", "payable": "应缴",
    "refund_later": "先缴后补", "subsidy_identity": "资助身份", "benefit_start": "待遇起始日",
    "benefit_end": "待遇终止日", "rule": "规则", "waiting_months": "等待期月数",
    "reason_contains": "原因包含", "explanation_contains": "说明包含", "input_error_contains": "输入错误包含",
    "waiting_days": "等待期天数", "identity_since": "身份认定日期",
}

# a key whose meaning depends on where it sits: "Model.key" → name
MODEL_FIELD_LABELS: dict[str, str] = {
    "Rule.start": "待遇起始日", "Window.start": "起始日", "Window.end": "截止日", "Rule.id": "规则编号",
    "Rule.label": "规则名称", "PolicyFile.id": "政策编号", "Refusal.reason": "不予受理原因",
    "WaitingFloor.months": "最少月数", "WaitingFloor.gap_years": "断保年数不少于",
    "BenefitStart.date": "固定起始日", "EmployeeMonths.year": "职工医保缴费年度", "EnrolleeKind.kind": "类别",
    "MonthDays.months": "月份",
}

# list key → how one element is counted ("第3条规则")
ITEM_NOUNS: dict[str, str] = {
    "rules": "条规则", "standards": "项缴费标准", "items": "项资助", "cases": "个用例", "notes": "条其他规定",
    "kinds": "类参保对象", "age_any_of": "个年龄条件", "any_of": "个条件", "checklist": "项清单确认",
    "days_by_month": "项分月缴费日",
}


def field_label(key: str, description: str | None = None, model: str | None = None) -> str:
    if model and f"{model}.{key}" in MODEL_FIELD_LABELS:
        return MODEL_FIELD_LABELS[f"{model}.{key}"]
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    if description:
        return re.split("[：，（；]", description)[0][:20]
    return key

# what a key means, for the reference in docs/policy.md (a Field description in schema.py wins)
FIELD_HELP: dict[str, str] = {
    "id": "政策编号：<省>-<县>[-<乡镇>]-<待遇年度>，拼音小写，与文件名相同",
    "title": "通知标题，照抄", "seed": "通知原文的文件名（纯文本），引用逐句与它核对",
    "benefit_year": "待遇年度（享受待遇的那一年）", "notice_year": "发文（征缴）年度，通常是待遇年度前一年",
    "reference": "所据原文，逐句照抄；略去的字用……", "source": "出处：notice 本地通知、national 国家规定、interpretation 本系统的理解",
    "note": "理由说明；source 为 interpretation 时必写",
    "tier": "档次：1 或 2", "groups": "参保群体代码（见词汇表）", "identities": "资助身份代码（见词汇表）",
    "label": "中文名称，出现在测算说明中", "amount": "金额（元）",
    "split": "财政补助分项，如 {central: 536, provincial: 134}，之和须等于 amount",
    "single_highest": "多重身份只按一种资助（就高不就低）的原文",
    "kind": "资助方式：full 全额、fixed 定额、percent 按比例", "percent": "比例（百分数，如 50）",
    "timing": "now 缴费时减免；refund_later 先缴后补", "age_any_of": "年龄条件，任一成立即可：{min: 60} 或 {below: 18}",
    "min": "下限（含）", "below": "上限（不含）：未满多少周岁", "max": "上限（含）",
    "main_window": "集中征缴期", "days_of_month": "每月只在这几天缴费，如 {first: 1, last: 25}",
    "late_refusal": "年度结束后（或征缴期外无规则适用时）不予受理的原因",
    "rules": "受理规则，依次判断，先符合者适用", "when": "条件：写出的各项同时成立（any_of 为任一）",
    "outcome": "accept 受理、refuse 不予受理", "start": "待遇起始日：起算点加天数、月数",
    "Window.start": "集中征缴期的第一天（含）", "Window.end": "集中征缴期的最后一天（含）",
    "EnrolleeKind.kind": "参保对象的类别（见词汇表“取值固定的设置”）",
    "anchor": "起算点（见词汇表）", "days": "起算点后加的天数", "months": "起算点后加的月数",
    "charge": "收费：standard 按标准、exempt 免缴、standard_plus_fiscal 另缴财政补助",
    "waiting_period": "待遇等待期", "allow_before_year_start": "待遇可早于年度首日（如大学新生9月起）",
    "fixed_months": "固定等待期（月）", "extra_months_per_gap_year": "断保第2年起每年加的月数",
    "reduce_months_per_backpaid_year": "每补缴一年减的月数", "exempt_groups": "不设等待期的参保群体",
    "allowed_reasons": "可退费的原因", "before_benefit_start_only": "只在待遇享受期开始前退费",
    "checklist": "通知没有涉及的清单项：{item: 清单项, reason: 理由}", "review": "待复核事项（yibao policy new 写入）",
    "region_prefix": "区划代码前缀：市4位或县6位，加引号",
    "Rule.id": "规则编号：小写字母、数字、下划线，文件内不重复；用例的 rule 写它",
    "Rule.label": "规则的中文名称，出现在测算说明中", "Refusal.reason": "不予受理时告诉缴费人的原因",
    "Rule.waiting_period": "none 不设、always 一律设、if_gap 上年断保的才设（按文件的 waiting_period 计算）",
    "paid_from": "缴费日不早于此日", "paid_to": "缴费日不晚于此日",
    "paid_in_main_window": "缴费日在集中征缴期内（含每月缴费日限制）",
    "born_in_benefit_year": "在待遇年度内出生", "days_since_birth": "缴费日距出生日的天数（出生当天为0）",
    "age_below_years": "缴费日未满多少周岁", "has_event_date": "是否给出了事件日期（退役、刑满释放、停保、毕业等）",
    "days_since_event": "缴费日距事件日的天数", "gap_years": "参保前连续断保年数",
    "any_of": "其中任一条件成立即可", "used_by": "系统中由哪一部分执行这句规定",
    # cases files (the quote option each key stands for)
    "CaseFile.policy": "所测的政策编号", "CaseFile.cases": "用例，不少于15个",
    "Case.name": "写明它说明的规则，如“集中征缴期首日缴费，自1月1日起享受”", "Case.paid_on": "缴费日期（--paid-on）",
    "CasePerson.birth_date": "出生日期（--birth-date）",
    "CasePerson.identities": "资助身份，代码或任一名称，如 [低保对象]（--identity）",
    "CasePerson.group": "参保群体，代码或名称（--group）", "CasePerson.groups": "几个参保群体",
    "CasePerson.event_date": "事件日期（--event-date）", "CasePerson.tier": "缴费档次（--tier）",
    "CasePerson.gap_years": "参保前连续断保年数（--gap-years）", "CasePerson.backpaid_years": "补缴年数（--backpaid-years）",
    "CasePerson.household_role": "家庭角色 child 或 parent（--role）", "CasePerson.first_time": "首次参保（--first-time）",
    "CasePerson.employee_months": "职工医保缴费月数（--employee-months）",
    "CasePerson.household_enrolled": "同户其他家庭成员已参保（--household-enrolled）",
    "Expect.accepted": "是否受理", "Expect.standard": "个人缴费标准（元）", "Expect.subsidy": "资助（元）",
    "Expect.payable": "本次应缴（元）", "Expect.refund_later": "先缴后补日后退补（元）",
    "Expect.subsidy_identity": "按哪个身份资助（代码）", "Expect.benefit_start": "待遇起始日",
    "Expect.benefit_end": "待遇终止日", "Expect.rule": "适用的规则编号（rules[].id）",
    "Expect.waiting_months": "按月计算的等待期", "Expect.waiting_days": "按天计算的等待期",
    "Expect.reason_contains": "不予受理原因中应有的字（一段）",
    "Expect.explanation_contains": "说明中应有的字：一段或列表 [a, b]，用来核对说明是否照抄了通知原文",
    "Expect.input_error_contains": "应报的输入错误中的字",
}

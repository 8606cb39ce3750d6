"""The change log's vocabulary: Chinese names of actions, objects and the fields events carry."""

from __future__ import annotations

# The actions a user can pick in the filter: "entity.action" → its Chinese name.
ACTION_LABELS: dict[str, str] = {
    "payment.booked": "收款入账", "payment.rechecked": "缴费重新匹配", "payment.refunded": "缴费退还",
    "payment.transferred": "缴费随人迁移",
    "receipt.issued": "开具票据", "receipt.printed": "打印票据", "receipt.reprinted": "补打票据",
    "receipt.voided": "作废票据",
    "refund.requested": "申请退费", "refund.approved": "同意退费", "refund.rejected": "驳回退费",
    "refund.booked": "退款入账",
    "subsidy_refund.created": "登记先缴后补", "subsidy_refund.approved": "审核先缴后补",
    "subsidy_refund.paid": "发放先缴后补", "subsidy_refund.cancelled": "撤销先缴后补",
    "enrollment.registered": "参保登记", "enrollment.paid": "参保缴费", "enrollment.suspended": "参保暂停",
    "enrollment.terminated": "参保终止", "enrollment.resumed": "恢复参保", "enrollment.tier": "选择缴费档次",
    "enrollment.transferred": "参保随人迁移",
    "campaign.opened": "开启年度征缴", "campaign.closed": "结束年度征缴", "campaign.reopened": "重新开启征缴",
    "campaign.history_created": "建立历年参保", "campaign.assessed": "参保核定",
    "policy.installed": "安装政策",
    "cash_handover.record": "登记现金交款", "cash_handover.void": "作废现金交款",
    "reconciliation_run.run": "对账",
    "export.export": "导出",
    "targets.import": "导入目标任务", "targets.derive": "生成目标任务", "target.adjust": "调整目标任务",
    "target.import": "按全市任务表设定本县目标任务", "targets_city.adjust": "市里调整各县目标任务",
    "targets_city.import": "导入全市任务表", "campaign_city.opened": "为全市各县开启年度征缴",
    "remind.contacted": "催缴：已联系", "remind.moved_away": "催缴：已迁出",
    "remind.employee_insurance": "催缴：已参加职工医保", "remind.deceased": "催缴：已死亡",
    "remind.refused": "催缴：拒缴",
    "resident.register": "登记参保人", "resident.update": "修改参保人信息", "resident.status": "户籍状态变更",
    "resident.move": "参保人迁移", "resident.flag": "标记重复参保", "resident.flag_resolve": "处理重复参保标记",
    "resident.identity_add": "登记资助身份", "resident.identity_renew": "续期资助身份",
    "resident.identity_end": "终止资助身份", "resident.group_add": "登记参保群体",
    "resident.group_remove": "移除参保群体", "resident.group_import_update": "名单导入更新参保群体",
    "resident.group_reassessed": "参保群体变化后核定改变（待复核）", "resident.import_update": "名单导入更新参保人",
    "household.register": "登记家庭户", "household.set_head": "变更户主",
    "household.import_update": "名单导入更新家庭户",
    "identity.import_update": "名单导入更新资助身份", "employee_record.import_update": "名单导入更新职工医保",
    "region.import": "导入行政区划", "region.import_update": "行政区划更名",
    "user.create": "新建账号", "user.update": "修改账号", "user.deactivate": "停用账号",
    "user.activate": "启用账号", "user.reset_password": "重置密码", "user.change_password": "修改密码",
    "user.update_profile": "修改本人资料", "user.unlock": "解锁账号", "user.lockout": "账号锁定",
    "user.reset_second_factor": "重置手机验证器", "user.enrol_second_factor": "绑定手机验证器",
    "job.interrupted": "任务中断", "job.interrupted_after_commit": "任务提交后中断",
    "job.report_regenerated": "重新生成任务报告",
    "resident.undo": "撤销状态变更", "enrollment.undo": "撤销参保变更", "remind.undo": "撤销催缴标记",
    "flag.undo": "撤销重复参保标记", "household.undo": "撤销新立家庭户", "mismatch.rectify": "对账差异已整改",
}

ENTITY_LABELS = {
    "payment": "缴费", "receipt": "票据", "refund": "退费", "subsidy_refund": "先缴后补", "enrollment": "参保",
    "campaign": "年度征缴", "policy": "政策", "cash_handover": "现金交款", "reconciliation_run": "对账",
    "export": "导出", "targets": "目标任务", "target": "目标任务", "targets_city": "全市目标任务",
    "campaign_city": "全市开启征缴", "remind": "催缴", "resident": "参保人",
    "household": "家庭户", "identity": "资助身份", "employee_record": "职工医保名单", "region": "行政区划",
    "user": "账号", "job": "后台任务", "flag": "重复参保标记", "mismatch": "对账差异",
}

# before/after keys that no model field names (or names differently)
EXTRA_LABELS = {
    "amount": "金额", "status": "状态", "total": "合计", "lines": "人数", "receipt_no": "票据号", "prints": "打印次数",
    "replaces": "原票据", "replaced_by": "换开票据", "payments": "缴费", "payment": "缴费", "identity": "资助身份",
    "village_code": "村（社区）", "township_code": "乡镇（街道）", "household": "家庭户", "head": "户主",
    "members": "人数", "number": "户号", "kind": "类型", "flag": "标记", "detail": "详情", "open": "未处理",
    "outcome": "结果", "code": "身份", "department": "认定部门", "valid_from": "起始日期", "valid_to": "终止日期",
    "group": "参保群体", "event_date": "日期", "rows": "行数", "q": "查找条件", "region": "区划", "format": "格式",
    "benefit_year": "待遇年度", "tier": "缴费档次", "claim_released": "释放名额", "source": "来源",
    "counted_in": "计入", "taken_in": "收款地", "collector": "收款人", "period": "期间", "handed_on": "交款日期",
    "received_by": "接收人", "as_of": "截止日期", "counts": "计数", "totals": "金额合计", "tax_file": "税务文件",
    "file": "文件", "created": "新增", "updated": "更新", "changes": "变更", "sums": "合计", "basis": "依据",
    "growth_percent": "增长率（%）", "villages": "村数", "kept": "保留", "note": "说明", "effects": "连带变更",
    "is_active": "启用", "locked": "锁定", "failures": "失败次数", "devices": "验证器", "username": "用户名",
    "ip": "IP 地址", "minutes": "分钟", "path": "页面", "runner": "处理进程", "report": "报告",
    "version": "版本", "cases": "测试用例", "policy_id": "政策", "policy_version": "政策版本",
    "collection_start": "征缴开始", "collection_end": "征缴结束", "imported": "导入", "name": "名称",
    "display_name": "姓名", "role": "角色", "region_code": "所属区划", "phone": "联系电话", "employer": "单位",
    "insured_from": "参保起始", "voided_at": "作废时间", "void_reason": "作废原因", "former_head_relation": "原户主关系",
    "renamed_codes": "更名区划", "previous": "上次对账", "tax_sha256": "税务文件摘要", "mark": "催缴标记",
    "relation_to_head": "与户主关系", "expected_amount": "应缴金额", "external_id": "缴费流水号",
    "benefit_start": "待遇起始日", "benefit_end": "待遇终止日", "refund_later": "先缴后补", "rule": "规则",
    "enrollment_action": "参保处理", "reason": "原因", "channel": "渠道",
}

SKIP_KEYS = {"flag", "mark", "payment", "payments", "identity", "household", "head", "tax_sha256", "runner",
             "report", "changes", "collector_key"}

ENTITY_MODELS = {
    "payment": "collection.Payment", "receipt": "collection.Receipt", "refund": "collection.Refund",
    "subsidy_refund": "collection.SubsidyRefund", "enrollment": "enrollment.Enrollment",
    "campaign": "enrollment.Campaign", "resident": "registry.Resident", "household": "registry.Household",
    "identity": "registry.Identity", "employee_record": "registry.EmployeeInsuranceRecord",
    "user": "accounts.User", "job": "core.Job", "remind": "progress.RemindMark", "region": "regions.Region",
    "flag": "registry.Flag", "mismatch": "reconciliation.Mismatch",
}

_LABELS: dict | None = None


def _vocabulary() -> dict:
    """Field labels and choice labels of every model: {"fields": {name: label}, "choices": {(model, name): {value: label}}}."""
    global _LABELS
    if _LABELS is None:
        from django.apps import apps

        fields, choices, loose, exact = {}, {}, {}, {}
        for model in apps.get_models():
            key = model._meta.label
            for f in model._meta.get_fields():
                if not hasattr(f, "verbose_name") or not getattr(f, "name", None):
                    continue
                label = str(f.verbose_name)
                if label and label != f.name.replace("_", " "):
                    fields.setdefault(f.name, label)
                    exact[(key, f.name)] = label
                if getattr(f, "choices", None):
                    mapping = {str(v): str(lbl) for v, lbl in f.flatchoices}
                    choices[(key, f.name)] = mapping
                    loose.setdefault(f.name, {}).update({k: v for k, v in mapping.items() if k})
        _LABELS = {"fields": fields | EXTRA_LABELS, "choices": choices, "loose": loose, "exact": exact}
    return _LABELS


def field_label(name: str, entity: str = "") -> str:
    """The field's Chinese name: the entity's own model first (a resident's name is 姓名), then any model."""
    vocab = _vocabulary()
    return vocab["exact"].get((ENTITY_MODELS.get(entity, ""), name)) or vocab["fields"].get(name, name)


def choice_label(entity: str, name: str, value) -> str:
    if value is None:
        return ""
    vocab = _vocabulary()
    exact = vocab["choices"].get((ENTITY_MODELS.get(entity, ""), name))
    if exact and str(value) in exact:
        return exact[str(value)]
    return vocab["loose"].get(name, {}).get(str(value), str(value))

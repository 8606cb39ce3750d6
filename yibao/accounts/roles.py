"""Roles and what each may do. One table, read by pages, the API, exports and tests alike."""

from django.db import models


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县医保局管理员"
    TAX_OFFICER = "tax_officer", "县税务局征收员"
    TOWNSHIP_OFFICER = "township_officer", "乡镇（街道）经办员"
    VILLAGE_COLLECTOR = "village_collector", "村（社区）征收员"
    DEPARTMENT_CLERK = "department_clerk", "部门名单报送员"
    AUDITOR = "auditor", "审计（只读）"
    CITY_ADMIN = "city_admin", "市医保局管理员"
    CITY_TAX = "city_tax", "市税务局（查看）"
    PROVINCE_VIEWER = "province_viewer", "省医保局（只读）"


class Department(models.TextChoices):
    MINZHENG = "minzheng", "民政"
    CANLIAN = "canlian", "残联"
    WEIJIAN = "weijian", "卫健"
    XIANGCUN = "xiangcun", "乡村振兴"
    TUIYI = "tuiyi", "退役军人事务"
    GONGAN = "gongan", "公安"
    YIBAO = "yibao", "医保"
    SHUIWU = "shuiwu", "税务"


# Capabilities, grouped by the app that checks them.
CAPABILITIES: dict[str, str] = {
    "regions.view": "查看行政区划",
    "regions.import": "导入行政区划",
    "registry.view": "查看户籍与参保人",
    "registry.edit": "登记、修改户籍与参保人",
    "registry.export": "导出参保人名单",
    "registry.resolve_flags": "处理重复参保标记",
    "identities.view": "查看资助身份",
    "identities.import": "导入部门资助身份名单",
    "employees.import": "导入职工医保名单",
    "residents.import": "导入户籍名单",
    "enrollments.import": "导入历年参保名单",
    "groups.import": "导入参保群体名单",
    "policy.view": "查看缴费政策",
    "policy.manage": "上传、校验缴费政策",
    "campaign.manage": "开启征缴年度、执行核定",
    "enrollment.view": "查看参保与核定",
    "enrollment.edit": "参保登记、暂停、终止、迁移",
    "payments.collect": "窗口收款",
    "payments.ingest": "导入渠道缴费明细",
    "payments.view": "查看缴费记录",
    "receipts.print": "打印票据",
    "receipts.void": "作废、换开票据",
    "refunds.request": "申请退费",
    "refunds.approve": "审批退费",
    "refunds.book": "办理退费入账",
    "subsidy_refunds.view": "查看先缴后补名单",
    "subsidy_refunds.approve": "审核先缴后补",
    "subsidy_refunds.pay": "发放先缴后补",
    "progress.view": "查看征缴进度",
    "progress.refresh": "重新统计征缴进度",
    "targets.manage": "导入、调整目标任务",
    "reports.export": "导出报表",
    "remind.view": "查看催缴名单",
    "remind.mark": "标记催缴结果",
    "reconcile.run": "执行对账",
    "cash.receive": "登记征收员现金交款",
    "reconcile.view": "查看对账结果",
    "audit.view": "查看变更记录",
    "jobs.view": "查看后台任务",
    "accounts.manage": "管理本县账号（创建、修改、停用、重置密码）",
}

_READ = {c for c in CAPABILITIES if c.endswith(".view")}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(CAPABILITIES),
    Role.TAX_OFFICER: frozenset(
        {
            "regions.view", "registry.view", "registry.export", "policy.view", "enrollment.view",
            "payments.ingest", "payments.view", "receipts.print", "receipts.void", "refunds.book",
            "subsidy_refunds.view", "subsidy_refunds.pay", "progress.view", "progress.refresh", "reports.export",
            "remind.view", "reconcile.run", "reconcile.view", "cash.receive", "audit.view", "jobs.view",
        }
    ),
    Role.TOWNSHIP_OFFICER: frozenset(
        {
            "regions.view", "registry.view", "registry.edit", "registry.export", "identities.view",
            "policy.view", "enrollment.view", "enrollment.edit", "payments.collect", "payments.view",
            "receipts.print", "receipts.void", "refunds.request", "subsidy_refunds.view", "subsidy_refunds.approve",
            "progress.view", "progress.refresh", "reports.export", "remind.view", "remind.mark", "reconcile.view",
            "cash.receive", "jobs.view",
        }
    ),
    Role.VILLAGE_COLLECTOR: frozenset(
        {
            "regions.view", "registry.view", "registry.edit", "registry.export", "identities.view",
            "policy.view", "enrollment.view", "enrollment.edit", "payments.collect", "payments.view",
            "receipts.print", "refunds.request", "subsidy_refunds.view", "progress.view", "progress.refresh",
            "remind.view", "remind.mark", "reconcile.view", "jobs.view",
        }
    ),
    Role.DEPARTMENT_CLERK: frozenset({"identities.import", "identities.view", "policy.view", "jobs.view"}),
    Role.AUDITOR: frozenset(_READ | {"registry.export", "reports.export"}),
    # Above the county: roll-ups of counties' figures, city-wide policy, campaigns and county targets.
    # No person-level work (registry, payments, receipts, 催缴 lists) and no whole ID numbers.
    Role.CITY_ADMIN: frozenset(
        {
            "regions.view", "policy.view", "policy.manage", "campaign.manage", "progress.view", "targets.manage",
            "reports.export", "reconcile.view", "audit.view", "jobs.view",
        }
    ),
    Role.CITY_TAX: frozenset({"regions.view", "policy.view", "progress.view", "reports.export", "reconcile.view", "jobs.view"}),
    Role.PROVINCE_VIEWER: frozenset({"regions.view", "policy.view", "progress.view", "reports.export", "reconcile.view"}),
}

# Roles bound above the county (a city, 4 digits, or a province, 2): they read roll-ups of many counties.
ABOVE_COUNTY_ROLES = frozenset({Role.CITY_ADMIN, Role.CITY_TAX, Role.PROVINCE_VIEWER})

# Roles that never write (their pages offer no form that changes a row).
READ_ONLY_ROLES = frozenset({Role.AUDITOR, Role.CITY_TAX, Role.PROVINCE_VIEWER})

# Roles that see whole ID numbers; every other role sees 421223********1234.
FULL_ID_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TAX_OFFICER, Role.TOWNSHIP_OFFICER, Role.VILLAGE_COLLECTOR})

# The level of region each role is bound to (a county is 6 digits, a township 9, a village 12).
ROLE_REGION_LEVEL: dict[str, int | None] = {
    Role.COUNTY_ADMIN: 6,
    Role.TAX_OFFICER: 6,
    Role.TOWNSHIP_OFFICER: 9,
    Role.VILLAGE_COLLECTOR: 12,
    Role.DEPARTMENT_CLERK: 6,
    Role.AUDITOR: None,  # any level from county down
    Role.CITY_ADMIN: 4,
    Role.CITY_TAX: 4,
    Role.PROVINCE_VIEWER: 2,
}

LEVEL_LABELS = {2: "省（自治区、直辖市）", 4: "市（地区、州、盟）", 6: "县（区）", 9: "乡镇（街道）", 12: "村（社区）"}


def role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


def department_label(department: str) -> str:
    """民政 for 'minzheng'; a name that is already Chinese stays as it is."""
    return Department(department).label if department in Department.values else department


def department_values(department: str) -> list[str]:
    """Both spellings a stored department may have: the code ('minzheng') and its name ('民政')."""
    if department in Department.values:
        return [department, Department(department).label]
    by_label = {label: value for value, label in Department.choices}
    return [by_label[department], department] if department in by_label else [department]

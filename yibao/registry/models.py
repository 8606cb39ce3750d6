"""The registry: households, residents, their subsidy identities, group facts and flags.

Every table carries county_code (the shard key); residents also carry township and village
codes so a user's scope is one equality filter.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdTail(models.Func):
    """The last four characters of an 18-character ID number (SUBSTR(id_number, 15, 4)), literal in the
    SQL so that SQLite and PostgreSQL match it against the resident_id_tail expression index: the
    search box finds 'last digits' without scanning the county (yibao/core/search.py)."""

    template = "SUBSTR(%(expressions)s, 15, 4)"
    output_field = models.CharField(max_length=4)


class RegionCodes(models.Model):
    county_code = models.CharField("县级区划代码", max_length=6)
    township_code = models.CharField("乡镇区划代码", max_length=9)
    village_code = models.CharField("村（社区）区划代码", max_length=12)

    class Meta:
        abstract = True


class Household(RegionCodes):
    """户: a head and members, registered with a village."""

    number = models.CharField("户号", max_length=40)
    head = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    address = models.CharField("住址", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "家庭户"
        constraints = [models.UniqueConstraint(fields=["county_code", "number"], name="household_number_per_county")]
        indexes = [models.Index(fields=["village_code"]), models.Index(fields=["township_code"])]

    def __str__(self):
        return self.number


class Resident(RegionCodes):
    """A person. village_code is where the person is managed (参保地); it starts as the 户籍 village."""

    class Sex(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        MOVED_AWAY = "moved_away", "已迁出"
        DECEASED = "deceased", "已死亡"

    id_number = models.CharField("身份证号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    hukou_region_code = models.CharField("户籍区划代码", max_length=12, blank=True)
    residence_region_code = models.CharField("居住地区划代码", max_length=12, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", db_constraint=False
    )
    relation_to_head = models.CharField("与户主关系", max_length=20, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ACTIVE)
    row_hash = models.CharField("导入行摘要", max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "参保人"
        constraints = [models.UniqueConstraint(fields=["county_code", "id_number"], name="resident_id_per_county")]
        indexes = [
            models.Index(fields=["village_code"]),
            models.Index(fields=["township_code"]),
            models.Index(fields=["id_number"]),
            models.Index(fields=["county_code", "name"]),
            models.Index(models.F("county_code"), IdTail("id_number"), name="resident_id_tail"),
        ]

    def __str__(self):
        return f"{self.name}（{self.id_number[:6]}…）"


class Identity(models.Model):
    """A subsidy identity (glossary code) certified by a department, with its validity."""

    county_code = models.CharField("县级区划代码", max_length=6)
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="identities", db_constraint=False)
    code = models.CharField("身份代码", max_length=32)
    department = models.CharField("认定部门", max_length=16)
    valid_from = models.DateField("起始日期", null=True, blank=True)
    valid_to = models.DateField("终止日期", null=True, blank=True)
    source_job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    source_name = models.CharField("来源名单", max_length=255, blank=True)
    row_hash = models.CharField("导入行摘要", max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "资助身份"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "resident", "code"], name="identity_once_per_resident")
        ]
        indexes = [models.Index(fields=["county_code", "code"])]

    def active_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class GroupFact(models.Model):
    """An enrollment-group fact (newborn, student, migrant worker, released prisoner ...) with its event date."""

    county_code = models.CharField("县级区划代码", max_length=6)
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="group_facts", db_constraint=False)
    group = models.CharField("参保群体", max_length=32)
    event_date = models.DateField("事件日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    # from a group list (名单导入): the school or employer, the day the group ends, where it came from
    place = models.CharField("学校或单位", max_length=200, blank=True, default="", db_default="")
    end_date = models.DateField("终止日期", null=True, blank=True)
    source_job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    source_name = models.CharField("来源名单", max_length=255, blank=True, default="", db_default="")
    row_hash = models.CharField("导入行摘要", max_length=32, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "参保群体"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "resident", "group"], name="group_fact_once_per_resident")
        ]

    def active_on(self, day) -> bool:
        return self.end_date is None or day <= self.end_date


class EmployeeInsuranceRecord(models.Model):
    """A line of the 职工医保 list: a resident may not hold both."""

    county_code = models.CharField("县级区划代码", max_length=6)
    id_number = models.CharField("身份证号码", max_length=18)
    name = models.CharField("姓名", max_length=50, blank=True)
    employer = models.CharField("单位", max_length=200, blank=True)
    insured_from = models.DateField("参保日期", null=True, blank=True)
    # months paid into 职工医保 in months_year (policy conditions such as "2025年职工医保缴费月份不少于3个月")
    months_paid = models.PositiveSmallIntegerField("缴费月数", null=True, blank=True)
    months_year = models.PositiveSmallIntegerField("缴费月数所属年度", null=True, blank=True)
    source_job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "职工医保名单"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "id_number"], name="employee_record_once_per_county")
        ]
        indexes = [models.Index(fields=["id_number"])]


class Flag(models.Model):
    """A reason a resident may not enroll until someone resolves it (重复参保清理)."""

    class Kind(models.TextChoices):
        OTHER_COUNTY = "other_county", "已在其他县（区）登记"
        EMPLOYEE_INSURANCE = "employee_insurance", "已参加职工医保"

    class Outcome(models.TextChoices):
        CLEARED = "cleared", "核实无重复，可以参保"
        CONFIRMED = "confirmed", "确认重复，不在本县参加居民医保"

    county_code = models.CharField("县级区划代码", max_length=6)
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="flags", db_constraint=False)
    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    detail = models.CharField("详情", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by_name = models.CharField("处理人", max_length=150, blank=True)
    resolution = models.CharField("处理结果", max_length=300, blank=True)
    outcome = models.CharField("处理结论", max_length=12, choices=Outcome.choices, blank=True, default="", db_default="")

    class Meta:
        verbose_name = "重复参保标记"
        indexes = [models.Index(fields=["county_code", "resolved_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind", "county_code"], condition=models.Q(resolved_at__isnull=True),
                name="one_open_flag_per_kind",
            )
        ]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class StatusChange(models.Model):
    """One status change made through a page (暂停、终止、迁移、催缴标记) that its maker may undo for
    10 minutes: the resident's records before and after, and the events it wrote (docs/enrollment.md, 撤销)."""

    UNDO_MINUTES = 10

    county_code = models.CharField("县级区划代码", max_length=6)
    village_code = models.CharField("办理时所在村（社区）", max_length=12)
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    kind = models.CharField("类型", max_length=40)
    capability = models.CharField("所需权限", max_length=40)
    title = models.CharField("摘要", max_length=200)
    lines = models.JSONField("变更内容", default=list)
    before = models.JSONField("变更前")
    after = models.JSONField("变更后")
    first_event_id = models.BigIntegerField("办理前最后一条变更记录", default=0)
    last_event_id = models.BigIntegerField("办理写入的最后一条变更记录", default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    actor_name = models.CharField("办理人", max_length=150, blank=True)
    created_at = models.DateTimeField("办理时间", default=timezone.now)
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undone_by_name = models.CharField("撤销人", max_length=150, blank=True)

    class Meta:
        verbose_name = "可撤销的状态变更"
        indexes = [models.Index(fields=["resident", "created_at"])]

    def __str__(self):
        return f"status_change#{self.pk} {self.kind}"

    @property
    def undo_until(self):
        import datetime as dt

        return self.created_at + dt.timedelta(minutes=self.UNDO_MINUTES)

"""Campaigns (a county's benefit year under a policy), enrollments and assessments (核定)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from yibao.registry.models import RegionCodes

MONEY = {"max_digits": 12, "decimal_places": 2}


class Campaign(models.Model):
    """A county opens a benefit year with a policy file, its collection window and its targets."""

    class Status(models.TextChoices):
        OPEN = "open", "征缴中"
        CLOSED = "closed", "已结束"

    county_code = models.CharField("县级区划代码", max_length=6)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    policy_id = models.CharField("政策编号", max_length=80)
    policy_version = models.CharField("开启时的政策版本", max_length=16)
    collection_start = models.DateField("集中征缴期起")
    collection_end = models.DateField("集中征缴期止")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField("开启时间", default=timezone.now)
    opened_by_name = models.CharField("开启人", max_length=150, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by_name = models.CharField("结束人", max_length=150, blank=True, default="")
    last_assessed_at = models.DateTimeField("最近核定时间", null=True, blank=True)
    last_assessed_on = models.DateField("最近核定日期", null=True, blank=True)
    # a past year loaded from the national platform's roster (上年参保名单): closed, no policy;
    # collection_start/end then hold the benefit year's first and last day
    imported = models.BooleanField("导入的历史名单", default=False, db_default=False)

    class Meta:
        verbose_name = "征缴年度"
        constraints = [models.UniqueConstraint(fields=["county_code", "benefit_year"], name="one_campaign_per_county_year")]

    def __str__(self):
        return f"{self.county_code} {self.benefit_year}年度"

    @property
    def history_note(self) -> str:
        """Why a history campaign has no policy (pages, API and errors say the same)."""
        return f"{self.benefit_year}年度为导入的历史名单，没有缴费政策"


class Enrollment(RegionCodes):
    """参保关系 of a resident for one benefit year in one county."""

    class Kind(models.TextChoices):
        FIRST = "first", "首次参保登记"
        RENEWAL = "renewal", "续保"

    class Status(models.TextChoices):
        REGISTERED = "registered", "已登记未缴费"
        PAID = "paid", "正常参保"
        SUSPENDED = "suspended", "参保暂停"
        TERMINATED = "terminated", "参保终止"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="enrollments", db_constraint=False)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="enrollments", db_constraint=False)
    id_number = models.CharField("身份证号码", max_length=18)
    kind = models.CharField("登记类型", max_length=8, choices=Kind.choices)
    tier = models.PositiveSmallIntegerField("缴费档次", default=1)
    status = models.CharField("参保状态", max_length=12, choices=Status.choices, default=Status.REGISTERED)
    status_reason = models.CharField("状态原因", max_length=200, blank=True)
    benefit_start = models.DateField("待遇起始日", null=True, blank=True)
    benefit_end = models.DateField("待遇终止日", null=True, blank=True)
    registered_at = models.DateTimeField("登记时间", default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # digest of the roster row last imported (history campaigns); "" for enrollments made in Yibao
    import_hash = models.CharField("导入行摘要", max_length=32, blank=True, default="", db_default="")

    class Meta:
        verbose_name = "参保登记"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "resident", "benefit_year"], name="one_enrollment_per_resident_year")
        ]
        indexes = [
            models.Index(fields=["county_code", "benefit_year", "status"]),
            models.Index(fields=["village_code", "benefit_year"]),
            models.Index(fields=["township_code", "benefit_year"]),
            models.Index(fields=["id_number", "benefit_year"]),
        ]


class EnrollmentClaim(models.Model):
    """One active enrollment per ID number and year, across counties (looked up by id_number, never joined)."""

    id_number = models.CharField("身份证号码", max_length=18)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    county_code = models.CharField("县级区划代码", max_length=6)
    enrollment_id = models.BigIntegerField("参保登记编号")
    claimed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField("释放时间", null=True, blank=True)

    class Meta:
        verbose_name = "跨县参保占位"
        constraints = [
            models.UniqueConstraint(
                fields=["id_number", "benefit_year"], condition=Q(released_at__isnull=True), name="one_active_claim_per_id_year"
            )
        ]


class Assessment(RegionCodes):
    """核定: what a resident owes for the campaign's year, from the policy's bulk form."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assessments", db_constraint=False)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    resident = models.ForeignKey("registry.Resident", on_delete=models.CASCADE, related_name="assessments", db_constraint=False)
    assessed_on = models.DateField("核定日期")
    accepted = models.BooleanField("可受理", default=True)
    standard = models.DecimalField("个人缴费标准", **MONEY)
    subsidy = models.DecimalField("资助", **MONEY)
    payable = models.DecimalField("应缴", **MONEY)
    refund_later = models.DecimalField("先缴后补", **MONEY)
    subsidy_identity = models.CharField("资助身份", max_length=32, blank=True)
    rule = models.CharField("规则", max_length=64, blank=True)
    policy_version = models.CharField("政策版本", max_length=16)
    input_hash = models.CharField("核定依据摘要", max_length=32)
    assessed_at = models.DateTimeField("核定时间", default=timezone.now)
    # added by the assessment run (issue 4A); defaults keep older writers working
    reason = models.CharField("不予受理原因", max_length=300, blank=True, default="")
    tier = models.PositiveSmallIntegerField("缴费档次", default=1)
    benefit_start = models.DateField("待遇起始日", null=True, blank=True)
    benefit_end = models.DateField("待遇终止日", null=True, blank=True)

    class Meta:
        verbose_name = "核定"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "resident", "county_code"], name="one_assessment_per_campaign_resident")
        ]
        indexes = [
            models.Index(fields=["county_code", "benefit_year"]),
            models.Index(fields=["village_code", "benefit_year"]),
            models.Index(fields=["township_code", "benefit_year"], name="assessment_township_year"),
        ]

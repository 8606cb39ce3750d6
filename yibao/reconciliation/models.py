"""对账: collectors' cash handovers, reconciliation runs and the mismatches each run finds."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from yibao.registry.models import RegionCodes

MONEY = {"max_digits": 14, "decimal_places": 2}


class CashHandover(RegionCodes):
    """A village collector hands the cash taken at the counter to the township or county (交款).

    It covers the counter cash payments the collector took between period_start and period_end.
    """

    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    collector_name = models.CharField("交款人（征收员）", max_length=150)
    period_start = models.DateField("收款期间起")
    period_end = models.DateField("收款期间止")
    handed_on = models.DateField("交款日期")
    amount = models.DecimalField("交款金额", **MONEY)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    received_by_name = models.CharField("接收人", max_length=150)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by_name = models.CharField("作废人", max_length=150, blank=True)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "现金交款"
        ordering = ["-handed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="handover_amount_not_negative"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="handover_period_ordered"),
        ]
        indexes = [
            models.Index(fields=["county_code", "benefit_year"]),
            models.Index(fields=["village_code", "benefit_year"]),
            models.Index(fields=["township_code", "benefit_year"]),
        ]

    @property
    def active(self) -> bool:
        return self.voided_at is None


class ReconciliationRun(models.Model):
    """One reconciliation of a county's year as of a date: its inputs, totals and changes since the last run."""

    county_code = models.CharField("县级区划代码", max_length=6)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    as_of = models.DateField("对账截止日")
    ran_on = models.DateField("对账日期")
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", default=timezone.now)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created_by_name = models.CharField("对账人", max_length=150, blank=True)
    # inputs: the tax file, and digests and counts of what Yibao held
    tax_file_name = models.CharField("税务缴费记录文件", max_length=255)
    tax_file_sha256 = models.CharField("税务文件摘要", max_length=64)
    inputs = models.JSONField("输入（行数与摘要）", default=dict)
    totals = models.JSONField("各方金额合计", default=dict)
    counts = models.JSONField("各类差异条数", default=dict)
    changes = models.JSONField("与上次对账相比", default=dict)
    mismatch_total = models.PositiveIntegerField("差异条数", default=0)
    error_report_path = models.CharField("税务文件错误报告", max_length=500, blank=True)

    class Meta:
        verbose_name = "对账"
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["county_code", "benefit_year", "ran_on"])]

    def __str__(self):
        return f"{self.county_code} {self.benefit_year}年度 对账#{self.pk}"


class Mismatch(RegionCodes):
    """One disagreement between the tax records, Yibao's bookings, receipts and cash, with who must fix it."""

    class Kind(models.TextChoices):
        PAID_NOT_BOOKED = "paid_not_booked", "已缴费未入账"
        BOOKED_NOT_PAID = "booked_not_paid", "已入账未到账"
        AMOUNT_DIFFERS = "amount_differs", "金额不符"
        PERSON_DIFFERS = "person_differs", "缴费人不符"
        RECEIPT_WITHOUT_PAYMENT = "receipt_without_payment", "有票无款"
        PAYMENT_WITHOUT_RECEIPT = "payment_without_receipt", "有款无票（白条风险）"
        CASH_SHORT = "cash_short", "现金短款"
        CASH_OVER = "cash_over", "现金长款"

    class Responsible(models.TextChoices):
        TAX = "tax", "税务"
        COLLECTOR = "collector", "村征收员"
        TOWNSHIP = "township", "乡镇"
        YIBAO = "yibao", "医保经办"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches", db_constraint=False)
    kind = models.CharField("差异类型", max_length=32, choices=Kind.choices)
    responsible = models.CharField("整改责任方", max_length=12, choices=Responsible.choices)
    responsible_name = models.CharField("整改责任人", max_length=160)
    collector_key = models.CharField("征收员", max_length=160, blank=True)
    key = models.CharField("差异标识", max_length=200)
    first_seen_run_id = models.BigIntegerField("首次发现于对账")
    first_seen_on = models.DateField("首次发现日期")
    payment_id = models.BigIntegerField("缴费记录", null=True, blank=True)
    receipt_id = models.BigIntegerField("票据", null=True, blank=True)
    external_id = models.CharField("缴费流水号", max_length=64, blank=True)
    id_number = models.CharField("身份证号码", max_length=18, blank=True)
    other_id_number = models.CharField("医保记录的身份证号码", max_length=18, blank=True)
    person_name = models.CharField("姓名", max_length=50, blank=True)
    tax_row = models.PositiveIntegerField("税务文件行号", null=True, blank=True)
    # the other side's amount: the tax record, the receipt's face value, or the cash handed over
    tax_amount = models.DecimalField("税务/票面/交款金额", null=True, blank=True, **MONEY)
    # what Yibao recorded: the booking, the payments a receipt covers, or the counter cash taken
    yibao_amount = models.DecimalField("医保记录金额", null=True, blank=True, **MONEY)
    difference = models.DecimalField("差额（医保−对方）", default=0, **MONEY)
    paid_on = models.DateField("缴费日期", null=True, blank=True)
    period_start = models.DateField("期间起", null=True, blank=True)
    period_end = models.DateField("期间止", null=True, blank=True)
    channel = models.CharField("渠道", max_length=40, blank=True)
    receipt_no = models.CharField("票据号", max_length=64, blank=True)
    detail = models.CharField("差异说明", max_length=400)
    action = models.CharField("整改要求", max_length=400)
    # 已整改: the responsible party says it has fixed the cause; the next run checks it again
    rectified_at = models.DateTimeField("整改时间", null=True, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    rectified_by_name = models.CharField("整改人", max_length=150, blank=True)
    rectified_note = models.CharField("整改说明", max_length=200, blank=True)

    @property
    def rectified(self) -> bool:
        return self.rectified_at is not None

    class Meta:
        verbose_name = "对账差异"
        indexes = [
            models.Index(fields=["run", "kind"]),
            models.Index(fields=["run", "village_code"]),
            models.Index(fields=["run", "township_code"]),
            models.Index(fields=["run", "key"]),
        ]

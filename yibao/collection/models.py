"""Payments, receipts, refunds and 先缴后补 (subsidy refunds)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from yibao.registry.models import RegionCodes

MONEY = {"max_digits": 12, "decimal_places": 2}


class Payment(RegionCodes):
    """One person's contribution for one year, from the counter or a channel file."""

    class Source(models.TextChoices):
        COUNTER = "counter", "村（社区）窗口"
        FILE = "file", "渠道明细"

    class Channel(models.TextChoices):
        CASH = "cash", "现金"
        POS = "pos", "POS机"
        WECHAT = "wechat", "微信"
        ALIPAY = "alipay", "支付宝"
        TAX_APP = "tax_app", "税务APP"
        BANK = "bank", "银行"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        BOOKED = "booked", "已入账"
        FLAGGED = "flagged", "待处理"
        REFUNDED = "refunded", "已退费"
        TOPUP = "topup", "补缴差额"

    class Flag(models.TextChoices):
        NONE = "", "无"
        UNDER = "under", "少缴"
        OVER = "over", "多缴"
        DUPLICATE = "duplicate", "重复缴费"
        NOT_ACCEPTED = "not_accepted", "不予受理"
        UNKNOWN_PERSON = "unknown_person", "查无此人"
        BLOCKED = "blocked", "参保受限"

    campaign = models.ForeignKey("enrollment.Campaign", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="payments", db_constraint=False
    )
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", null=True, blank=True, on_delete=models.PROTECT, related_name="payments", db_constraint=False
    )
    id_number = models.CharField("身份证号码", max_length=18)
    source = models.CharField("来源", max_length=8, choices=Source.choices)
    channel = models.CharField("渠道", max_length=12, choices=Channel.choices)
    external_id = models.CharField("缴费流水号", max_length=64)
    amount = models.DecimalField("金额", **MONEY)
    expected_amount = models.DecimalField("应缴金额", null=True, blank=True, **MONEY)
    paid_at = models.DateTimeField("缴费时间")
    paid_on = models.DateField("缴费日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    flag = models.CharField("问题", max_length=16, choices=Flag.choices, blank=True, default="")
    flag_advice = models.CharField("处理建议", max_length=300, blank=True)
    benefit_start = models.DateField("待遇起始日", null=True, blank=True)
    benefit_end = models.DateField("待遇终止日", null=True, blank=True)
    refund_later = models.DecimalField("先缴后补", default=0, **MONEY)
    subsidy_identity = models.CharField("资助身份", max_length=32, blank=True)
    policy_version = models.CharField("政策版本", max_length=16, blank=True)
    rule = models.CharField("规则", max_length=64, blank=True)
    ticket_no = models.CharField("渠道票据号", max_length=64, blank=True)
    explanation_key = models.CharField("测算说明", max_length=32, blank=True, default="")
    top_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="top_ups", db_constraint=False,
        verbose_name="补缴差额对应的缴费",
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    collector_name = models.CharField("收款人", max_length=150, blank=True)
    source_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "缴费"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "external_id"], name="payment_external_id_once_per_county"),
            models.UniqueConstraint(
                fields=["county_code", "resident", "benefit_year"],
                condition=Q(status="booked"),
                name="one_booked_payment_per_resident_year",
            ),
        ]
        indexes = [
            models.Index(fields=["county_code", "benefit_year", "status"]),
            models.Index(fields=["village_code", "benefit_year"]),
            models.Index(fields=["township_code", "benefit_year"]),
            models.Index(fields=["id_number", "benefit_year"]),
            models.Index(fields=["county_code", "paid_on"]),
        ]


class ReceiptSeries(models.Model):
    """The county's running receipt numbers for a year; locked while a number is taken."""

    county_code = models.CharField("县级区划代码", max_length=6)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    next_number = models.PositiveIntegerField("下一号", default=1)

    class Meta:
        verbose_name = "票据号段"
        constraints = [models.UniqueConstraint(fields=["county_code", "benefit_year"], name="one_series_per_county_year")]


class Receipt(RegionCodes):
    """A receipt (票据) for one counter action: one person or a whole household."""

    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    number = models.PositiveIntegerField("号码")
    receipt_no = models.CharField("票据号", max_length=40)
    payer_name = models.CharField("缴款人", max_length=50)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    total = models.DecimalField("合计", **MONEY)
    channel = models.CharField("渠道", max_length=12, choices=Payment.Channel.choices)
    issued_at = models.DateTimeField("开票时间", default=timezone.now)
    issued_by_name = models.CharField("开票人", max_length=150, blank=True)
    prints = models.PositiveIntegerField("打印次数", default=0)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "票据"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "benefit_year", "number"], name="receipt_number_once_per_series"),
            models.UniqueConstraint(fields=["receipt_no", "county_code"], name="receipt_no_unique"),  # the number starts with the county code
        ]


class ReceiptLine(models.Model):
    county_code = models.CharField("县级区划代码", max_length=6)
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt_line", db_constraint=False)
    name = models.CharField("姓名", max_length=50)
    amount = models.DecimalField("金额", **MONEY)

    class Meta:
        verbose_name = "票据明细"


class Refund(RegionCodes):
    """退费 of a personal contribution, with the suspension or termination it goes with."""

    class Reason(models.TextChoices):
        DEATH = "death", "死亡"
        DUPLICATE = "duplicate_payment", "重复缴费"
        EMPLOYEE = "joined_employee_insurance", "参加职工医保"
        OTHER_CITY = "joined_other_city_insurance", "参加其他地市居民医保"
        OVERPAID = "overpaid", "多缴退还差额"
        UNBOOKED = "unbooked", "未入账款项退还"

    class Status(models.TextChoices):
        REQUESTED = "requested", "已申请"
        APPROVED = "approved", "已审批"
        REJECTED = "rejected", "已驳回"
        BOOKED = "booked", "已退款"

    class EnrollmentAction(models.TextChoices):
        SUSPEND = "suspend", "参保暂停"
        TERMINATE = "terminate", "参保终止"
        NONE = "none", "不涉及参保关系"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", db_constraint=False)
    # None for a payment that found no one in the register (查无此人): its money goes back all the same
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="refunds", db_constraint=False)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    amount = models.DecimalField("退费金额", **MONEY)
    reason = models.CharField("原因", max_length=32, choices=Reason.choices)
    enrollment_action = models.CharField("参保关系处理", max_length=10, choices=EnrollmentAction.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.REQUESTED)
    note = models.CharField("说明", max_length=300, blank=True)
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    requested_by_name = models.CharField("申请人", max_length=150, blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decided_by_name = models.CharField("审批人", max_length=150, blank=True)
    booked_at = models.DateTimeField("退款时间", null=True, blank=True)
    booked_by_name = models.CharField("退款人", max_length=150, blank=True)

    @property
    def person_label(self) -> str:
        """The resident's name, or 查无此人 with the payment's ID number ending."""
        if self.resident_id and self.resident:
            return self.resident.name
        return f"查无此人（身份证号码尾号{self.payment.id_number[-4:]}）"

    class Meta:
        verbose_name = "退费"
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "county_code"], condition=~Q(status="rejected"), name="one_live_refund_per_payment"
            )
        ]
        indexes = [models.Index(fields=["county_code", "status"])]


class SubsidyRefund(RegionCodes):
    """先缴后补: a person who paid the full standard and is owed the subsidy back."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已审核"
        PAID = "paid", "已发放"
        CANCELLED = "cancelled", "已撤销"

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="subsidy_refund", db_constraint=False)
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="subsidy_refunds", db_constraint=False)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    identity = models.CharField("补贴身份", max_length=32)
    amount = models.DecimalField("退补金额", **MONEY)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)
    approved_by_name = models.CharField("审核人", max_length=150, blank=True)
    paid_at = models.DateTimeField("发放时间", null=True, blank=True)
    paid_by_name = models.CharField("发放人", max_length=150, blank=True)

    class Meta:
        verbose_name = "先缴后补"
        indexes = [models.Index(fields=["township_code", "benefit_year", "status"]),
                   models.Index(fields=["county_code", "benefit_year", "status"])]  # the county's 待审核 count


class QuoteExplanation(models.Model):
    """The explanation of a quote, stored once however many payments share it (key: a hash of the lines)."""

    key = models.CharField("摘要", max_length=32, unique=True)
    lines = models.JSONField("说明", default=list)

    class Meta:
        verbose_name = "测算说明"

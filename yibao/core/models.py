"""Shared models: the event log for every change of money or status, and long-running jobs."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    """One row per change of money or status: who, when, what, before, after and why."""

    county_code = models.CharField("县级区划代码", max_length=6, db_index=True)
    entity = models.CharField("对象类型", max_length=40)
    entity_id = models.CharField("对象编号", max_length=64)
    action = models.CharField("动作", max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    reason = models.TextField("原因", blank=True)
    # db_default: bulk paths that insert events with raw SQL or COPY still get a value
    request_id = models.CharField("请求编号", max_length=64, blank=True, default="", db_default="", db_index=True,
                                  help_text="发起这次变更的请求（日志与响应头 X-Request-ID 中的编号）")

    class Meta:
        verbose_name = "变更记录"
        indexes = [
            models.Index(fields=["entity", "entity_id"]),
            models.Index(fields=["county_code", "at"]),
        ]

    def __str__(self):
        return f"{self.entity}#{self.entity_id} {self.action}"


class Job(models.Model):
    """A long piece of work (import, assessment, reconciliation, export) with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "已完成"
        WRITTEN = "written", "已写入，报告未生成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务类型", max_length=40, db_index=True)
    county_code = models.CharField("县级区划代码", max_length=6, blank=True, db_index=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.QUEUED)
    total = models.BigIntegerField("总量", default=0)
    done = models.BigIntegerField("已处理", default=0)
    message = models.CharField("当前步骤", max_length=200, blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    input_name = models.CharField("文件名", max_length=255, blank=True)
    input_path = models.CharField("文件路径", max_length=500, blank=True)
    input_sha256 = models.CharField("文件摘要", max_length=64, blank=True, db_index=True)
    report_path = models.CharField("报告路径", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField("发起人", max_length=150, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    runner = models.CharField("处理进程", max_length=120, blank=True, help_text="主机名:进程号，用于发现中断的任务")
    committed_at = models.DateTimeField(
        "数据提交时间", null=True, blank=True,
        help_text="任务的数据和计数在同一事务中提交的时间；为空表示数据库中没有它写入的数据",
    )

    class Meta:
        verbose_name = "后台任务"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.SUCCEEDED, self.Status.WRITTEN):
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def kind_label(self) -> str:
        from yibao.core.jobs import KIND_LABELS

        label = KIND_LABELS.get(self.kind, self.kind)
        return f"{label}（试导入）" if self.dry_run else label

    @property
    def dry_run(self) -> bool:
        """A 试导入: validated and counted, nothing written (params["dry_run"])."""
        return bool((self.params or {}).get("dry_run"))

    @property
    def county_title(self) -> str:
        """'怀远县（340321）': the county by name beside its code."""
        if not self.county_code:
            return ""
        from yibao.regions.selectors import region_name

        name = region_name(self.county_code)
        return f"{name}（{self.county_code}）" if name != self.county_code else self.county_code

    @property
    def result_summary(self) -> list:
        from yibao.core.jobs import result_summary

        return result_summary(self.result)

    @property
    def result_balance(self) -> str:
        from yibao.core.jobs import result_balance

        return result_balance(self.result)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.WRITTEN, self.Status.FAILED)

    @property
    def report_pending(self) -> bool:
        """Its data is in, its report is not: the report can be made again from the job's data."""
        return self.status == self.Status.WRITTEN and bool((self.result or {}).get("report_pending"))

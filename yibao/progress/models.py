"""Targets (目标任务), the per-village progress rollup, and 催缴 marks.

Every table carries county_code (the shard key). The rollup tables are rebuilt from payments
and enrollments by `services.progress_refresh`; the dashboard and reports read only them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Target(models.Model):
    """应参保人数 of one unit (county, township or village) for one benefit year."""

    class Source(models.TextChoices):
        IMPORT = "import", "任务表导入"
        MANUAL = "manual", "手工调整"
        ROLLUP = "rollup", "由下级汇总"
        DERIVED = "derived", "按上年参保或在册人数生成"

    class Layout(models.TextChoices):
        VILLAGES = "villages", "村名/总人口/应参保人数/补充保险（肖岭乡式）"
        TOWNS = "towns", "序号/镇（场）/合计/特群免缴/其他居民（随县式）"
        PLAIN = "", "通用"

    county_code = models.CharField("县级区划代码", max_length=6)
    region_code = models.CharField("区划代码", max_length=12)
    level = models.PositiveSmallIntegerField("层级")
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    total = models.PositiveIntegerField("应参保人数")
    special = models.PositiveIntegerField("特群免缴（特殊群体）", null=True, blank=True)
    others = models.PositiveIntegerField("其他居民", null=True, blank=True)
    population = models.PositiveIntegerField("总人口", null=True, blank=True)
    supplementary = models.PositiveIntegerField("补充保险应参保人数", null=True, blank=True)
    supplementary_label = models.CharField("补充保险列名", max_length=40, blank=True)
    layout = models.CharField("任务表格式", max_length=10, choices=Layout.choices, blank=True, default="")
    source = models.CharField("来源", max_length=8, choices=Source.choices)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    updated_by_name = models.CharField("更新人", max_length=150, blank=True)

    class Meta:
        verbose_name = "目标任务"
        constraints = [models.UniqueConstraint(fields=["region_code", "benefit_year"], name="one_target_per_region_year")]
        indexes = [models.Index(fields=["county_code", "benefit_year"])]

    def __str__(self):
        return f"{self.region_code} {self.benefit_year} {self.total}"


class UnitCounts(models.Model):
    """The counts a unit's progress is made of: today's (VillageProgress) and a day's (DaySnapshot) alike."""

    paid = models.PositiveIntegerField("已缴人数", default=0)
    enrolled = models.PositiveIntegerField("参保人数", default=0)
    registered = models.PositiveIntegerField("已登记未缴费", default=0)
    special_people = models.PositiveIntegerField("特殊群体人数", default=0)
    special_enrolled = models.PositiveIntegerField("特殊群体参保人数", default=0)
    last_year = models.PositiveIntegerField("上年参保人数", default=0)
    renewed = models.PositiveIntegerField("上年参保本年已续保", default=0)

    class Meta:
        abstract = True


class VillageProgress(UnitCounts):
    """Current counts of one village for one benefit year (rebuilt by progress_refresh)."""

    county_code = models.CharField("县级区划代码", max_length=6)
    township_code = models.CharField("乡镇区划代码", max_length=9)
    village_code = models.CharField("村（社区）区划代码", max_length=12)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    amount = models.DecimalField("已缴金额", max_digits=14, decimal_places=2, default=0)
    refreshed_at = models.DateTimeField("统计时间", default=timezone.now)

    class Meta:
        verbose_name = "村参保进度"
        constraints = [
            models.UniqueConstraint(fields=["village_code", "benefit_year"], name="one_progress_row_per_village_year")
        ]
        indexes = [models.Index(fields=["county_code", "benefit_year"])]


class VillageDay(models.Model):
    """Enrollments completed on one day in one village (the daily curve)."""

    county_code = models.CharField("县级区划代码", max_length=6)
    township_code = models.CharField("乡镇区划代码", max_length=9)
    village_code = models.CharField("村（社区）区划代码", max_length=12)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    day = models.DateField("日期")
    paid = models.PositiveIntegerField("缴费人数", default=0)
    exempt = models.PositiveIntegerField("免缴参保人数", default=0)
    amount = models.DecimalField("缴费金额", max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = "村每日参保"
        constraints = [
            models.UniqueConstraint(fields=["village_code", "benefit_year", "day"], name="one_day_row_per_village_year")
        ]
        indexes = [models.Index(fields=["county_code", "benefit_year", "day"])]


class AreaDay(models.Model):
    """The daily curve of a township or the county: the sum of its villages' VillageDay rows, kept so the
    county's curve is a hundred rows to read, not one per village and day."""

    county_code = models.CharField("县级区划代码", max_length=6)
    region_code = models.CharField("区划代码", max_length=9)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    day = models.DateField("日期")
    paid = models.PositiveIntegerField("缴费人数", default=0)
    exempt = models.PositiveIntegerField("免缴参保人数", default=0)
    amount = models.DecimalField("缴费金额", max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name = "乡镇、县每日参保"
        constraints = [
            models.UniqueConstraint(fields=["region_code", "benefit_year", "day"], name="one_day_row_per_area_year")
        ]
        indexes = [models.Index(fields=["county_code", "benefit_year"])]


class DaySnapshot(UnitCounts):
    """The figures of one unit (county, township or village) as they stood at the end of one business day.

    Written by every recount (progress_refresh) for the day it runs on, so the day's last count stands;
    a past day never counted is computed once from payment and enrollment dates (source "rebuilt").
    Targets are kept too: 序时人数 and the rank of a past day follow the target of that day.
    """

    class Source(models.TextChoices):
        COUNTED = "counted", "当日统计"
        REBUILT = "rebuilt", "按缴费、参保日期补算"

    county_code = models.CharField("县级区划代码", max_length=6)
    region_code = models.CharField("区划代码", max_length=12)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    day = models.DateField("日期")
    remind_closed = models.PositiveIntegerField("催缴已核实不再参保", default=0)
    remind_refused = models.PositiveIntegerField("催缴拒缴（仍待催缴）", default=0)
    amount = models.DecimalField("已缴金额", max_digits=16, decimal_places=2, default=0)
    target = models.PositiveIntegerField("应参保人数", null=True, blank=True)
    special_target = models.PositiveIntegerField("特群免缴", null=True, blank=True)
    others_target = models.PositiveIntegerField("其他居民", null=True, blank=True)
    population = models.PositiveIntegerField("总人口", null=True, blank=True)
    supplementary = models.PositiveIntegerField("补充保险应参保人数", null=True, blank=True)
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.COUNTED)
    refreshed_at = models.DateTimeField("统计时间", null=True, blank=True)

    class Meta:
        verbose_name = "每日进度快照"
        constraints = [
            models.UniqueConstraint(fields=["region_code", "benefit_year", "day"], name="one_snapshot_per_unit_year_day")
        ]
        indexes = [models.Index(fields=["county_code", "benefit_year", "day"])]


class ProgressRefresh(models.Model):
    """When a county's rollup was last rebuilt, and how long it took."""

    county_code = models.CharField("县级区划代码", max_length=6)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    refreshed_at = models.DateTimeField("统计时间", default=timezone.now)
    seconds = models.FloatField("用时（秒）", default=0)
    villages = models.PositiveIntegerField("村数", default=0)

    class Meta:
        verbose_name = "进度统计"
        constraints = [models.UniqueConstraint(fields=["county_code", "benefit_year"], name="one_refresh_per_county_year")]


class RemindMark(models.Model):
    """A 催缴 outcome for one of last year's enrollees; the newest mark of a person is the current one."""

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", "已联系"
        MOVED_AWAY = "moved_away", "已迁出"
        EMPLOYEE = "employee_insurance", "已参加职工医保"
        DECEASED = "deceased", "已死亡"
        REFUSED = "refused", "拒缴"

    county_code = models.CharField("县级区划代码", max_length=6)
    township_code = models.CharField("乡镇区划代码", max_length=9)
    village_code = models.CharField("村（社区）区划代码", max_length=12)
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    resident = models.ForeignKey(
        "registry.Resident", on_delete=models.CASCADE, related_name="remind_marks", db_constraint=False
    )
    outcome = models.CharField("催缴结果", max_length=20, choices=Outcome.choices)
    note = models.CharField("说明", max_length=300, blank=True)
    marked_at = models.DateTimeField("标记时间", default=timezone.now)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    marked_by_name = models.CharField("标记人", max_length=150, blank=True)

    class Meta:
        verbose_name = "催缴标记"
        indexes = [
            models.Index(fields=["village_code", "benefit_year"]),
            models.Index(fields=["county_code", "benefit_year"]),
        ]

    # 已联系 and 拒缴 are records only: the person stays on the 催缴 list (拒缴 is counted apart)
    RECORDS = (Outcome.CONTACTED, Outcome.REFUSED)

    @property
    def closes(self) -> bool:
        """Moved away, joined 职工医保 or died: the person leaves the 催缴 list."""
        return self.outcome not in self.RECORDS

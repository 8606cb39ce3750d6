from django.db import models


class Region(models.Model):
    """行政区划: a county (6 digits), township (9) or village/community (12). The parent follows from the code."""

    class Level(models.IntegerChoices):
        COUNTY = 6, "县（区）"
        TOWNSHIP = 9, "乡镇（街道）"
        VILLAGE = 12, "村（社区）"

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_constraint=False
    )
    county_code = models.CharField("县级区划代码", max_length=6, db_index=True)

    class Meta:
        verbose_name = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @staticmethod
    def parent_code_of(code: str) -> str | None:
        return {9: code[:6], 12: code[:9]}.get(len(code))

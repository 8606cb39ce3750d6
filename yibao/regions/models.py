from django.db import models

# Digits 7-9 of a township code name its kind (统计用区划代码编制规则).
TOWNSHIP_KINDS = (("0", "街道"), ("1", "镇"), ("2", "乡"), ("3", "乡"), ("4", "农场、林场等"), ("5", "农场、林场等"))


class Region(models.Model):
    """行政区划: a province (2 digits), city (4), county (6), township (9) or village/community (12).

    The parent follows from the code; a county's parent is its city when the city is loaded (counties
    may be loaded alone). A city or province row carries its own code as county_code.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 2, "省（自治区、直辖市）"
        CITY = 4, "市（地区、州、盟）"
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
        """The parent a region must have: a township's county, a village's township."""
        return {9: code[:6], 12: code[:9]}.get(len(code))

    @staticmethod
    def upper_code_of(code: str) -> str | None:
        """The parent a region has when it is loaded: a county's city, a city's province."""
        return {4: code[:2], 6: code[:4]}.get(len(code))

    @property
    def kind_label(self) -> str:
        """街道/镇/乡/农场 for a township, 居委会/村委会 for a village, from the code itself."""
        if self.level == self.Level.TOWNSHIP:
            return dict(TOWNSHIP_KINDS).get(self.code[6], "乡镇")
        if self.level == self.Level.VILLAGE:
            return "社区（居委会）" if self.code[9] in "01" else "村（村委会）"
        return self.get_level_display()

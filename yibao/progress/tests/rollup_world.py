"""A small province for roll-up tests: 湖北省 42 › 咸宁市 4212 (崇阳县 421223 with figures, 赤壁市 421281 with
no campaign or target) and 随州市 4213 (随县 421321, whose 4321 参保 must never show in 咸宁市). The rollup rows
are written as a recount leaves them (VillageProgress, targets, a fresh ProgressRefresh)."""

from decimal import Decimal

from django.utils import timezone

from yibao.enrollment.tests import factories as f
from yibao.progress.models import ProgressRefresh, Target, VillageProgress
from yibao.registry.tests.factories import add_region

TODAY = "2024-11-15"
PROVINCE, CITY, OTHER_CITY = "42", "4212", "4213"
CHONGYANG, CHIBI, SUIXIAN = "421223", "421281", "421321"
VILLAGES = {CHONGYANG + "100201": ("天城镇", "白马", 600, 500, 450), CHONGYANG + "100202": ("天城镇", "青山", 400, 100, 90),
            SUIXIAN + "100201": ("厉山镇", "神农", 5000, 4321, 4000)}


def build() -> None:
    add_region(PROVINCE, "湖北省")
    add_region(CITY, "咸宁市")
    add_region(OTHER_CITY, "随州市")
    add_region(CHONGYANG, "崇阳县")
    add_region(CHIBI, "赤壁市")
    add_region(SUIXIAN, "随县")
    for county in (CHONGYANG, SUIXIAN):
        f.campaign(county=county)
        ProgressRefresh.objects.create(county_code=county, benefit_year=2025, refreshed_at=timezone.now())
    Target.objects.create(county_code=CHONGYANG, region_code=CHONGYANG, level=6, benefit_year=2025, total=1000,
                          source="rollup")
    Target.objects.create(county_code=SUIXIAN, region_code=SUIXIAN, level=6, benefit_year=2025, total=5000,
                          source="rollup")
    for code, (township, village, target, enrolled, paid) in VILLAGES.items():
        add_region(code[:9], township)
        add_region(code, village)
        Target.objects.create(county_code=code[:6], region_code=code, level=12, benefit_year=2025, total=target,
                              source="manual")
        VillageProgress.objects.create(
            county_code=code[:6], township_code=code[:9], village_code=code, benefit_year=2025, paid=paid,
            enrolled=enrolled, last_year=enrolled + 50, renewed=enrolled - 20, amount=Decimal(paid) * 380)

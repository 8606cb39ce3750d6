"""朔州市 (1406) in the region tree for city tests: 山西省, the city, and three of its counties with a village each."""

from yibao.regions.models import Region

PROVINCE, CITY = "14", "1406"
COUNTIES = {"140602": "朔城区", "140603": "平鲁区", "140621": "山阴县"}
POLICY = "shanxi-shuozhou-2024"
YEAR = 2024


def shuozhou(counties=tuple(COUNTIES)) -> list[str]:
    """Load 山西省, 朔州市 and the given counties (each with one township and one village); returns the village codes."""
    Region.objects.get_or_create(code=PROVINCE, defaults={"name": "山西省", "level": 2, "county_code": PROVINCE})
    Region.objects.get_or_create(code=CITY, defaults={"name": "朔州市", "level": 4, "county_code": CITY,
                                                      "parent_id": PROVINCE})
    villages = []
    for code in counties:
        Region.objects.get_or_create(code=code, defaults={"name": COUNTIES[code], "level": 6, "county_code": code,
                                                          "parent_id": CITY})
        Region.objects.get_or_create(code=code + "100", defaults={"name": f"{COUNTIES[code][:2]}镇", "level": 9,
                                                                  "county_code": code, "parent_id": code})
        Region.objects.get_or_create(code=code + "100001", defaults={"name": f"{COUNTIES[code][:2]}村", "level": 12,
                                                                     "county_code": code, "parent_id": code + "100"})
        villages.append(code + "100001")
    return villages

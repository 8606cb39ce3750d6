from yibao.regions.models import Region


def region_name(code: str) -> str:
    """The region's name, or the code itself when the region is not loaded."""
    name = Region.objects.filter(code=code).values_list("name", flat=True).first()
    return name or code

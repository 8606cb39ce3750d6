"""Find the person a command or a file row names: an ID number, or a resident id (居民编号), inside the
operator's region scope. Refusals are Chinese strings (PersonNotFound), so a file reports them per row."""

from __future__ import annotations


class PersonNotFound(ValueError):
    pass


def find_resident(text: str, *, scope, county: str | None = None, label: str = "身份证号码"):
    from yibao.core.idnumber import InvalidIdNumber, check_id_number
    from yibao.registry.models import Resident
    from yibao.regions.selectors import county_label

    text = (text or "").strip()
    if not text:
        raise PersonNotFound(f"{label}为空")
    people = scope.filter(Resident.objects.all())
    if county:
        people = people.filter(county_code=county)
    if text.isdigit() and len(text) < 15:  # a resident id
        found = people.filter(pk=int(text)).first()
        if found is None:
            raise PersonNotFound(f"未找到居民编号 {text}，或不在当前账号的管辖范围内")
        return found
    try:
        number = check_id_number(text).number
    except InvalidIdNumber as exc:
        raise PersonNotFound(f"{label}无效：{exc}") from None
    found = list(people.filter(id_number=number)[:3])
    if not found:
        where = f"（{county_label(county)}）" if county else ""
        raise PersonNotFound(f"户籍名单中没有身份证号码 {scope.show_id(number)}{where}，或不在当前账号的管辖范围内")
    if len(found) > 1:
        raise PersonNotFound(f"身份证号码 {scope.show_id(number)} 在多个县登记（{'、'.join(p.county_code for p in found)}），"
                             f"请用 --county 指定")
    return found[0]

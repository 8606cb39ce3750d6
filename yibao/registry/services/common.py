"""What the registry writes share: relations and sexes, the actor's scope and region, and the check
of one person's ID number, name, sex and birth date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from yibao.accounts.scope import actor_scope
from yibao.core.idnumber import IdNumber, InvalidIdNumber, check_id_number
from yibao.regions.models import Region
from yibao.registry.models import Resident


HEAD = "户主"
RELATIONS = (
    "户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "外孙子", "外孙女", "儿媳", "女婿",
    "祖父", "祖母", "兄", "弟", "姐", "妹", "其他",
)
SEX_WORDS = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F"}
SEX_NAMES = {"M": "男", "F": "女"}


# ---------------------------------------------------------------- checks shared by the services


def _scope(actor, capability: str):
    scope = actor_scope(actor)
    if scope is not None:
        scope.require(capability)
    return scope


def _require_region(scope, code: str) -> None:
    if scope is not None:
        scope.require_region(code)


def _village(code: str, label: str = "村（社区）") -> Region:
    code = (code or "").strip()
    region = Region.objects.filter(code=code).first() if code else None
    if region is None or region.level != Region.Level.VILLAGE:
        raise ValidationError({"village_code": f"请选择{label}（12位区划代码），收到：{code or '空'}"})
    return region


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _date(value, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{what}格式应为 YYYY-MM-DD，收到：{value}") from None


@dataclass(frozen=True)
class CheckedPerson:
    id: IdNumber
    name: str
    warnings: tuple[str, ...] = ()


def person_check(*, id_number, name, sex=None, birth_date=None, where: str = "") -> CheckedPerson:
    """Check a person against their ID number: GB 11643 checksum and birth date, sex and birth as given.

    Old 15-digit numbers become 18 (a warning says so); an unknown area code is a warning.
    `where` names the row in messages ("第2位成员（张三）").
    """
    name = _text(name)
    errors = []
    if not name:
        errors.append(f"{where}姓名不能为空")
    elif len(name) > 50:
        errors.append(f"{where}姓名“{name[:10]}…”超过50个字")
    elif any(ch.isdigit() for ch in name):
        errors.append(f"{where}姓名“{name}”不能含数字")
    try:
        checked = check_id_number(id_number)
    except InvalidIdNumber as exc:
        errors.append(f"{where}{exc}")
        raise ValidationError(errors) from None
    warnings = list(checked.warnings)
    raw = "".join(_text(id_number).split()).upper()
    if len(raw) == 15:
        warnings.append(f"15位身份证号码 {raw} 已升级为18位：{checked.number}")
    if sex not in (None, ""):
        given = SEX_WORDS.get(_text(sex))
        if given is None:
            errors.append(f"{where}性别“{sex}”应为“男”或“女”")
        elif given != checked.sex:
            errors.append(
                f"{where}性别“{SEX_NAMES[given]}”与身份证号码不符（号码第17位表示{SEX_NAMES[checked.sex]}性）"
            )
    try:
        birth = _date(birth_date, f"{where}出生日期")
    except ValidationError as exc:
        errors.extend(exc.messages)
    else:
        if birth is not None and birth != checked.birth_date:
            errors.append(f"{where}出生日期 {birth.isoformat()} 与身份证号码中的 {checked.birth_date.isoformat()} 不符")
    if errors:
        raise ValidationError(errors)
    return CheckedPerson(id=checked, name=name, warnings=tuple(f"{where}{w}" for w in warnings))


def _where(index: int, name: str) -> str:
    return f"第{index}位成员（{_text(name) or '未填姓名'}）："


def _already_registered(resident: Resident, scope=None) -> str:
    """Where a number is already registered. Inside the user's region: name, village and household;
    outside it only that it is another village's, and the township to contact, never the person."""
    from yibao.regions.selectors import region_label, region_name

    if scope is not None and not scope.contains(resident.village_code):
        township = region_name(resident.township_code) or resident.township_code
        return f"已在本县其他村（社区）登记，请与{township}征收专班联系核实"
    household = f"，户号 {resident.household.number}" if resident.household_id and resident.household else ""
    return f"已登记为“{resident.name}”（{region_label(resident.village_code)}{household}）"

"""Writes of the registry: households, residents, identities, group facts and flags.

Every service takes keyword arguments only, runs in one transaction, checks the actor's
capability and region (a User; a string such as cli_actor() is the command line, unrestricted)
and writes an event row for every change of status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.accounts.roles import Department, Role, department_label
from yibao.accounts.scope import actor_scope
from yibao.core.clock import business_now, business_today
from yibao.core.idnumber import IdNumber, InvalidIdNumber, check_id_number
from yibao.core.services import actor_fields, event_bulk_record, event_record
from yibao.policy.vocabulary import IDENTITY_BY_CODE, UnknownTerm, group_code, group_name, identity_code, identity_name
from yibao.regions.models import Region
from yibao.registry.models import EmployeeInsuranceRecord, Flag, GroupFact, Household, Identity, Resident

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


# ---------------------------------------------------------------- flags


def _detect_flags(resident: Resident) -> list[tuple[str, str]]:
    """Reasons to flag a resident: the same ID in another county, or on a 职工医保 list."""
    from yibao.regions.selectors import region_name

    found = []
    other = (
        Resident.objects.filter(id_number=resident.id_number)
        .exclude(county_code=resident.county_code)
        .values_list("county_code", flat=True)
        .first()
    )
    if other:
        found.append((Flag.Kind.OTHER_COUNTY, f"同一身份证号码已在{region_name(other)}（{other}）登记"))
    employee = EmployeeInsuranceRecord.objects.filter(id_number=resident.id_number).order_by("-insured_from").first()
    if employee:
        since = f"，参保日期 {employee.insured_from.isoformat()}" if employee.insured_from else ""
        employer = f"（{employee.employer}）" if employee.employer else ""
        found.append((Flag.Kind.EMPLOYEE_INSURANCE, f"在职工医保名单中{employer}{since}"))
    return found


@transaction.atomic
def flag_create(*, actor, resident: Resident, kind: str, detail: str = "") -> Flag:
    """Flag a resident (重复参保); an open flag of the same kind is kept, not doubled."""
    scope = _scope(actor, "registry.edit")
    _require_region(scope, resident.village_code)
    if kind not in Flag.Kind.values:
        raise ValidationError(f"未知的标记类型：{kind}")
    existing = Flag.objects.filter(resident=resident, kind=kind, resolved_at__isnull=True).first()
    if existing:
        return existing
    flag = Flag.objects.create(county_code=resident.county_code, resident=resident, kind=kind, detail=detail[:300])
    event_record(
        county_code=resident.county_code, entity="resident", entity_id=resident.pk, action="flag", actor=actor,
        after={"flag": flag.pk, "kind": kind, "detail": flag.detail}, reason=Flag.Kind(kind).label,
    )
    return flag


@transaction.atomic
def flag_resolve(*, actor, flag: Flag, outcome: str, resolution: str) -> Flag:
    """Resolve a flag with a conclusion and its reason. 'cleared' lifts the block; 'confirmed' keeps it."""
    scope = _scope(actor, "registry.resolve_flags")
    flag = Flag.objects.select_for_update().select_related("resident").get(county_code=flag.county_code, pk=flag.pk)
    _require_region(scope, flag.resident.village_code)
    errors = {}
    if flag.resolved_at is not None:
        raise ValidationError({"outcome": f"该标记已于 {timezone.localtime(flag.resolved_at):%Y-%m-%d %H:%M} 由{flag.resolved_by_name}处理。"})
    if outcome not in Flag.Outcome.values:
        errors["outcome"] = "请选择处理结论：核实无重复，或确认重复。"
    resolution = _text(resolution)
    if not resolution:
        errors["resolution"] = "请填写处理依据（如：已核实职工医保于2023年6月停保）。"
    elif len(resolution) > 300:
        errors["resolution"] = "处理依据不能超过300个字。"
    if errors:
        raise ValidationError(errors)
    flag.resolved_at = business_now()
    flag.resolved_by_name = actor_fields(actor)["actor_name"]
    flag.outcome = outcome
    flag.resolution = resolution
    flag.save(update_fields=["resolved_at", "resolved_by_name", "outcome", "resolution"])
    event_record(
        county_code=flag.county_code, entity="resident", entity_id=flag.resident_id, action="flag_resolve", actor=actor,
        before={"flag": flag.pk, "kind": flag.kind, "open": True},
        after={"flag": flag.pk, "kind": flag.kind, "open": False, "outcome": outcome},
        reason=resolution,
    )
    return flag


# ---------------------------------------------------------------- households and residents


@dataclass
class RegisterResult:
    household: Household
    residents: list[Resident]
    warnings: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)


def _next_household_number(village_code: str) -> str:
    n = Household.objects.filter(village_code=village_code).count() + 1
    while Household.objects.filter(county_code=village_code[:6], number=f"{village_code}{n:04d}").exists():
        n += 1
    return f"{village_code}{n:04d}"


def _check_members(members: list[dict], county_code: str, scope) -> tuple[list[CheckedPerson], list[str]]:
    errors, checked, warnings, seen = [], [], [], {}
    for index, member in enumerate(members, start=1):
        where = _where(index, member.get("name"))
        relation = _text(member.get("relation") or member.get("relation_to_head"))
        if not relation:
            errors.append(f"{where}请填写与户主关系")
        elif len(relation) > 20:
            errors.append(f"{where}与户主关系“{relation[:10]}…”过长")
        try:
            person = person_check(
                id_number=member.get("id_number"), name=member.get("name"),
                sex=member.get("sex"), birth_date=member.get("birth_date"), where=where,
            )
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        number = person.id.number
        if number in seen:
            errors.append(f"{where}身份证号码与第{seen[number]}位成员重复")
        seen[number] = index
        existing = Resident.objects.filter(county_code=county_code, id_number=number).select_related("household").first()
        if existing:
            shown = scope.show_id(number) if scope else number
            errors.append(f"{where}身份证号码 {shown} {_already_registered(existing, scope)}")
        checked.append(person)
        warnings.extend(person.warnings)
    heads = [m for m in members if _text(m.get("relation") or m.get("relation_to_head")) == HEAD]
    if len(heads) != 1:
        errors.append(f"每户须有且只有一位户主（与户主关系填“{HEAD}”），现有{len(heads)}位")
    if errors:
        raise ValidationError(errors)
    return checked, warnings


def _new_resident(person: CheckedPerson, member: dict, village: Region, household: Household | None) -> Resident:
    residence = _text(member.get("residence_region_code")) or village.code
    return Resident(
        county_code=village.code[:6], township_code=village.code[:9], village_code=village.code,
        id_number=person.id.number, name=person.name, sex=person.id.sex, birth_date=person.id.birth_date,
        hukou_region_code=_text(member.get("hukou_region_code")) or village.code, residence_region_code=residence,
        phone=_text(member.get("phone"))[:20], household=household,
        relation_to_head=_text(member.get("relation") or member.get("relation_to_head")),
    )


def _flag_new(actor, residents: list[Resident]) -> list[Flag]:
    flags = []
    for resident in residents:
        for kind, detail in _detect_flags(resident):
            flags.append(flag_create(actor=actor, resident=resident, kind=kind, detail=detail))
    return flags


@transaction.atomic
def household_register(
    *, actor, village_code: str, members: list[dict], number: str = "", address: str = "", reason: str = ""
) -> RegisterResult:
    """Register a household (户) with its members; one member is the head (与户主关系 “户主”).

    Each member: id_number, name, relation, and optionally sex, birth_date (checked against the
    ID number), phone, residence_region_code. All members or none are registered.
    """
    scope = _scope(actor, "registry.edit")
    village = _village(village_code)
    _require_region(scope, village.code)
    members = [m for m in members if any(_text(v) for v in m.values())]
    if not members:
        raise ValidationError("请至少填写一位成员（户主）。")
    county = village.code[:6]
    checked, warnings = _check_members(members, county, scope)
    number = _text(number)
    if len(number) > 40:
        raise ValidationError({"number": "户号不能超过40个字符。"})
    if number and Household.objects.filter(county_code=county, number=number).exists():
        raise ValidationError({"number": f"户号 {number} 已存在；如需增加成员，请在该户页面添加。"})
    household = Household.objects.create(
        county_code=county, township_code=village.code[:9], village_code=village.code,
        number=number or _next_household_number(village.code), address=_text(address)[:200],
    )
    residents = [_new_resident(p, m, village, household) for p, m in zip(checked, members)]
    Resident.objects.bulk_create(residents)
    if not all(r.pk for r in residents):  # backends without RETURNING
        residents = list(Resident.objects.filter(county_code=county, id_number__in=[r.id_number for r in residents]))
    head = next(r for r in residents if r.relation_to_head == HEAD)
    household.head = head
    household.save(update_fields=["head"])
    event_record(
        county_code=county, entity="household", entity_id=household.pk, action="register", actor=actor,
        after={"number": household.number, "village_code": village.code, "head": head.pk, "members": len(residents)},
        reason=reason or "登记家庭户",
    )
    event_bulk_record(
        actor=actor,
        rows=[
            {
                "county_code": county, "entity": "resident", "entity_id": str(r.pk), "action": "register",
                "before": None, "after": {"status": r.status, "village_code": r.village_code, "household": household.pk,
                                          "relation_to_head": r.relation_to_head},
                "reason": reason or "随户登记",
            }
            for r in residents
        ],
    )
    flags = _flag_new(actor, residents)
    return RegisterResult(household=household, residents=residents, warnings=warnings, flags=flags)


@transaction.atomic
def household_member_add(*, actor, household: Household, member: dict, reason: str = "") -> RegisterResult:
    """Add one member to a household (a newborn, a spouse who moved in ...)."""
    scope = _scope(actor, "registry.edit")
    _require_region(scope, household.village_code)
    relation = _text(member.get("relation") or member.get("relation_to_head"))
    if relation == HEAD:
        raise ValidationError({"relation": "该户已有户主；如需变更户主，请在户页面“变更户主”。"})
    where = f"成员（{_text(member.get('name')) or '未填姓名'}）："
    if not relation:
        raise ValidationError({"relation": f"{where}请填写与户主关系"})
    person = person_check(
        id_number=member.get("id_number"), name=member.get("name"), sex=member.get("sex"),
        birth_date=member.get("birth_date"), where=where,
    )
    existing = Resident.objects.filter(county_code=household.county_code, id_number=person.id.number).select_related("household").first()
    if existing:
        shown = scope.show_id(person.id.number) if scope else person.id.number
        raise ValidationError({"id_number": f"{where}身份证号码 {shown} {_already_registered(existing, scope)}；跨村迁入请用“迁移”。"})
    village = Region.objects.get(code=household.village_code)
    resident = _new_resident(person, {**member, "relation": relation}, village, household)
    resident.save()
    if household.head_id is None and relation == HEAD:
        household.head = resident
        household.save(update_fields=["head"])
    event_record(
        county_code=household.county_code, entity="resident", entity_id=resident.pk, action="register", actor=actor,
        after={"status": resident.status, "village_code": resident.village_code, "household": household.pk,
               "relation_to_head": relation},
        reason=reason or "户内增加成员",
    )
    flags = _flag_new(actor, [resident])
    return RegisterResult(household=household, residents=[resident], warnings=list(person.warnings), flags=flags)


@transaction.atomic
def household_set_head(*, actor, household: Household, resident: Resident, former_head_relation: str = "", reason: str = "") -> Household:
    """Make a member the head (户主); the former head takes `former_head_relation` (e.g. 父亲)."""
    scope = _scope(actor, "registry.edit")
    _require_region(scope, household.village_code)
    if resident.household_id != household.pk:
        raise ValidationError({"resident": f"{resident.name}不是本户成员。"})
    if resident.status != Resident.Status.ACTIVE:
        raise ValidationError({"resident": f"{resident.name}的状态为“{resident.get_status_display()}”，不能担任户主。"})
    former = household.head
    if former is not None and former.pk == resident.pk:
        return household
    before = {"head": former.pk if former else None, "relation_to_head": resident.relation_to_head}
    if former is not None and former.household_id == household.pk:
        former.relation_to_head = _text(former_head_relation)[:20] or "其他"
        former.updated_at = timezone.now()
        former.save(update_fields=["relation_to_head", "updated_at"])
    resident.relation_to_head = HEAD
    resident.updated_at = timezone.now()
    resident.save(update_fields=["relation_to_head", "updated_at"])
    household.head = resident
    household.updated_at = timezone.now()
    household.save(update_fields=["head", "updated_at"])
    event_record(
        county_code=household.county_code, entity="household", entity_id=household.pk, action="set_head", actor=actor,
        before=before, after={"head": resident.pk, "former_head_relation": former.relation_to_head if former else None},
        reason=reason or "变更户主",
    )
    return household


RESIDENT_FIELDS = ("name", "phone", "hukou_region_code", "residence_region_code", "relation_to_head", "status")

# Who may change a resident's status, by the path that starts it. Each path's own service has
# already checked its capability; the registry checks it again here, with the resident's region.
STATUS_SOURCES = {
    "registry": "registry.edit",  # 户籍维护
    "enrollment": "enrollment.edit",  # 参保终止
    "refund": "refunds.book",  # 退费入账 (death)
    "remind": "remind.mark",  # 催缴核实
}


@transaction.atomic
def resident_status_change(*, actor, resident: Resident, status: str, reason: str, source: str = "registry") -> Resident:
    """The one way a resident's status (正常 / 已迁出 / 已死亡) changes, whichever path starts it:
    户籍维护, 参保终止, a refund for death, a 催缴 mark. Writes the `status` event with its source.

    The same status again changes nothing and writes nothing.
    """
    if source not in STATUS_SOURCES:
        raise ValidationError({"status": f"未知的状态变更来源：{source}"})
    capability = STATUS_SOURCES[source]
    scope = _scope(actor, capability)
    _require_region(scope, resident.village_code)
    status, reason = _text(status), _text(reason)
    if status not in Resident.Status.values:
        names = "、".join(f"{label}（{value}）" for value, label in Resident.Status.choices)
        raise ValidationError({"status": f"未知的状态：{status or '（空）'}（应为 {names}）"})
    given, resident = resident, Resident.objects.select_for_update().get(county_code=resident.county_code, pk=resident.pk)
    if resident.status == status:
        return resident
    if not reason:
        raise ValidationError({"reason": "变更状态须填写原因（如：2023年5月迁出至外省）。"})
    before = resident.status
    resident.status = status
    resident.updated_at = timezone.now()
    resident.save(update_fields=["status", "updated_at"])
    given.status, given.updated_at = resident.status, resident.updated_at  # the caller's copy follows
    event_record(
        county_code=resident.county_code, entity="resident", entity_id=resident.pk, action="status", actor=actor,
        before={"status": before}, after={"status": status, "source": source}, reason=reason[:300],
    )
    if source == "registry":  # the other paths end the enrollments themselves, then tell the register
        from yibao.enrollment.services import EnrollmentError, enrollments_follow_resident_status
        from yibao.progress.services import progress_refresh_after_move

        try:
            ended = enrollments_follow_resident_status(actor=actor, resident=resident, status=status, reason=reason)
        except EnrollmentError as exc:
            raise ValidationError({"status": str(exc)}) from None
        if ended:
            progress_refresh_after_move(county_code=resident.county_code, village_codes=[resident.village_code])
    return resident


@transaction.atomic
def resident_update(
    *,
    actor,
    resident: Resident,
    name: str | None = None,
    phone: str | None = None,
    hukou_region_code: str | None = None,
    residence_region_code: str | None = None,
    relation_to_head: str | None = None,
    status: str | None = None,
    reason: str = "",
) -> Resident:
    """Correct a resident's particulars or change their status (正常 / 已迁出 / 已死亡). None leaves a field.

    The status goes through resident_status_change, which writes its own `status` event.
    """
    scope = _scope(actor, "registry.edit")
    _require_region(scope, resident.village_code)
    new = {
        "name": name, "phone": phone, "hukou_region_code": hukou_region_code,
        "residence_region_code": residence_region_code, "relation_to_head": relation_to_head, "status": status,
    }
    new = {k: _text(v) for k, v in new.items() if v is not None}
    errors = {}
    if "name" in new:
        if not new["name"]:
            errors["name"] = "姓名不能为空。"
        elif any(ch.isdigit() for ch in new["name"]) or len(new["name"]) > 50:
            errors["name"] = f"姓名“{new['name'][:20]}”不能含数字，且不超过50个字。"
    if "phone" in new and new["phone"] and not all(c.isdigit() or c in "+- " for c in new["phone"]):
        errors["phone"] = f"联系电话“{new['phone']}”格式不正确。"
    for key in ("hukou_region_code", "residence_region_code"):
        code = new.get(key)
        if code and not (code.isdigit() and len(code) in (6, 9, 12)):
            errors[key] = f"区划代码“{code}”应为6、9或12位数字。"
    if "relation_to_head" in new:
        if new["relation_to_head"] == HEAD and resident.relation_to_head != HEAD:
            errors["relation_to_head"] = "变更户主请在户页面办理。"
        elif resident.relation_to_head == HEAD and new["relation_to_head"] != HEAD:
            errors["relation_to_head"] = "户主的关系不能直接修改，请先在户页面变更户主。"
    if "status" in new:
        if new["status"] not in Resident.Status.values:
            errors["status"] = f"未知的状态：{new['status']}"
        elif new["status"] != resident.status and not _text(reason):
            errors["reason"] = "变更状态须填写原因（如：2023年5月迁出至外省）。"
    if errors:
        raise ValidationError(errors)
    new_status = new.pop("status", None)
    before = {k: getattr(resident, k) for k in new}
    changed = {k: v for k, v in new.items() if before[k] != v}
    if changed:
        for key, value in changed.items():
            setattr(resident, key, value)
        resident.updated_at = timezone.now()
        resident.save(update_fields=[*changed, "updated_at"])
        event_record(
            county_code=resident.county_code, entity="resident", entity_id=resident.pk, action="update", actor=actor,
            before={k: before[k] for k in changed}, after=changed, reason=_text(reason) or "修改参保人信息",
        )
    if new_status is not None and new_status != resident.status:
        resident = resident_status_change(actor=actor, resident=resident, status=new_status, reason=reason,
                                          source="registry")
    return resident


@transaction.atomic
def resident_move(
    *,
    actor,
    resident: Resident,
    to_village_code: str,
    household: Household | None = None,
    relation: str = "",
    move_hukou: bool = True,
    reason: str,
    from_year: int | None = None,
) -> Resident:
    """Transfer a resident to another village of the same county (迁移).

    They join `household` in the new village with `relation`, or head a new household there.
    The actor must reach both villages. A head whose household keeps other members can't move alone.

    The person's figures follow them (docs/registry.md, 迁移): progress, 催缴 and reconciliation
    count a person in the village they live in now. Their live enrollments and assessments of
    `from_year` on (default: the years still open, see `_open_years_from`) carry the new village,
    each with an event; each booked payment of those years keeps the place where the money was
    taken (the collector's cash and receipts stay there) and gets an event naming the village it now
    counts for. The progress rollup of both villages is counted again once the move commits.
    """
    scope = _scope(actor, "registry.edit")
    _require_region(scope, resident.village_code)
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": "请填写迁移原因（如：婚迁、购房迁入）。"})
    village = _village(to_village_code, "迁入的村（社区）")
    if village.code[:6] != resident.county_code:
        raise ValidationError({"village_code": "不能跨县（区）迁移：请在迁出县办理“已迁出”，由迁入县登记。"})
    if village.code == resident.village_code:
        raise ValidationError({"village_code": "迁入村与现所在村相同。"})
    _require_region(scope, village.code)
    if resident.status != Resident.Status.ACTIVE:
        raise ValidationError({"village_code": f"{resident.name}的状态为“{resident.get_status_display()}”，不能迁移。"})
    old_household = resident.household
    if old_household is not None and old_household.head_id == resident.pk:
        others = old_household.members.exclude(pk=resident.pk).filter(status=Resident.Status.ACTIVE).exists()
        if others:
            raise ValidationError({"village_code": f"{resident.name}是户主，户内还有其他成员；请先在户页面变更户主。"})
    if household is not None:
        if household.village_code != village.code:
            raise ValidationError({"household": f"户 {household.number} 不在迁入的村（社区）。"})
        relation = _text(relation)
        if not relation or relation == HEAD:
            raise ValidationError({"relation": "加入已有户时，请填写与户主关系（户主以外）。"})
    before = {
        "village_code": resident.village_code, "township_code": resident.township_code,
        "household": resident.household_id, "relation_to_head": resident.relation_to_head,
    }
    if household is None:
        household = Household.objects.create(
            county_code=village.code[:6], township_code=village.code[:9], village_code=village.code,
            number=_next_household_number(village.code), head=resident,
        )
        relation = HEAD
        event_record(
            county_code=household.county_code, entity="household", entity_id=household.pk, action="register",
            actor=actor, after={"number": household.number, "village_code": village.code, "head": resident.pk, "members": 1},
            reason=f"迁入立户：{reason}",
        )
    if old_household is not None and old_household.head_id == resident.pk:
        old_household.head = None
        old_household.updated_at = timezone.now()
        old_household.save(update_fields=["head", "updated_at"])
    resident.township_code, resident.village_code = village.code[:9], village.code
    resident.residence_region_code = village.code
    if move_hukou:
        resident.hukou_region_code = village.code
    resident.household, resident.relation_to_head = household, relation
    resident.updated_at = timezone.now()
    resident.save()
    event_record(
        county_code=resident.county_code, entity="resident", entity_id=resident.pk, action="move", actor=actor,
        before=before,
        after={"village_code": village.code, "township_code": village.code[:9], "household": household.pk,
               "relation_to_head": relation},
        reason=reason,
    )
    _carry_year_rows(actor=actor, resident=resident, from_village=before["village_code"], reason=reason,
                     from_year=from_year if from_year is not None else _open_years_from(resident.county_code))
    return resident


def _open_years_from(county_code: str) -> int:
    """The first benefit year a move carries: the year whose benefits run today, or an earlier
    campaign still collecting. Closed years keep the village their rows were made in."""
    from yibao.enrollment.models import Campaign

    year = business_today().year
    open_years = Campaign.objects.filter(county_code=county_code, status=Campaign.Status.OPEN).values_list(
        "benefit_year", flat=True)
    return min([year, *open_years])


def _carry_year_rows(*, actor, resident: Resident, from_village: str, from_year: int, reason: str) -> None:
    """After a move: the live enrollments and the assessments of `from_year` on take the new village;
    each booked payment of those years gets an event (its row keeps where the money was taken)."""
    from yibao.collection.models import Payment
    from yibao.enrollment.models import Assessment, Enrollment

    county, township, village = resident.county_code, resident.township_code, resident.village_code
    now = timezone.now()
    carried = (
        Enrollment.objects.select_for_update()
        .filter(county_code=county, resident=resident, benefit_year__gte=from_year)
        .exclude(status=Enrollment.Status.TERMINATED).exclude(village_code=village)
        .order_by("benefit_year")
    )
    for row in carried:
        before = {"status": row.status, "village_code": row.village_code, "township_code": row.township_code}
        row.township_code, row.village_code, row.updated_at = township, village, now
        row.save(update_fields=["township_code", "village_code", "updated_at"])
        event_record(
            county_code=county, entity="enrollment", entity_id=row.pk, action="transferred", actor=actor,
            before=before, after=before | {"village_code": village, "township_code": township}, reason=reason,
        )
    Assessment.objects.filter(county_code=county, resident=resident, benefit_year__gte=from_year).exclude(
        village_code=village).update(township_code=township, village_code=village)
    booked = Payment.objects.filter(
        county_code=county, resident=resident, benefit_year__gte=from_year, status=Payment.Status.BOOKED
    ).order_by("benefit_year", "pk")
    for payment in booked:
        event_record(
            county_code=county, entity="payment", entity_id=payment.pk, action="transferred", actor=actor,
            before={"counted_in": from_village, "taken_in": payment.village_code},
            after={"counted_in": village, "taken_in": payment.village_code, "amount": str(payment.amount),
                   "benefit_year": payment.benefit_year},
            reason=f"参保人迁入{village}，{payment.benefit_year}年度已缴人数随人计入迁入村（款项仍由原收款地对账）：{reason}",
        )
    from yibao.progress.services import progress_refresh_after_move

    progress_refresh_after_move(county_code=county, village_codes=[from_village, village])


# ---------------------------------------------------------------- identities and group facts


def _department_code(text: str) -> str:
    """A department given as code ('minzheng') or name ('民政') → its code; '' when unknown."""
    text = _text(text)
    if text in Department.values:
        return text
    by_label = {label: value for value, label in Department.choices}
    for part in text.replace("／", "/").split("/"):
        if part.strip() in by_label:
            return by_label[part.strip()]
    return ""


@transaction.atomic
def identity_add(
    *,
    actor,
    resident: Resident,
    code: str,
    department: str = "",
    valid_from=None,
    valid_to=None,
    source_name: str = "",
    reason: str = "",
) -> Identity:
    """Record a subsidy identity (a glossary code or alias) certified by a department.

    A person keeps every identity they hold; the policy picks the one subsidy (就高不就低).
    A department clerk may only record their own department's identities.
    """
    scope = _scope(actor, "identities.import")
    _require_region(scope, resident.village_code)
    try:
        code = identity_code(code)
    except UnknownTerm as exc:
        raise ValidationError({"code": str(exc)}) from None
    dept = _department_code(department) or _department_code(IDENTITY_BY_CODE[code].department)
    if department and not _department_code(department):
        raise ValidationError({"department": f"未知的认定部门：{department}"})
    if scope is not None and scope.department and not scope.superuser and scope.role == Role.DEPARTMENT_CLERK:
        if dept != scope.department:
            raise PermissionDenied(f"只能登记本部门（{department_label(scope.department)}）认定的身份。")
    start, end = _date(valid_from, "起始日期"), _date(valid_to, "终止日期")
    if start and end and end < start:
        raise ValidationError({"valid_to": f"终止日期 {end} 早于起始日期 {start}。"})
    existing = Identity.objects.select_for_update().filter(
        county_code=resident.county_code, resident=resident, code=code
    ).first()
    today = business_today()
    if existing is not None and (existing.valid_to is None or existing.valid_to >= today):
        period = f"{existing.valid_from or '不限'} 至 {existing.valid_to or '长期'}"
        raise ValidationError({"code": f"{resident.name}已有“{identity_name(code)}”身份（有效期 {period}）；如需调整，请先终止原身份。"})
    values = {
        "department": dept, "valid_from": start, "valid_to": end, "source_name": _text(source_name)[:255],
        "updated_at": timezone.now(),
    }
    if existing is not None:
        before = {"valid_from": str(existing.valid_from), "valid_to": str(existing.valid_to)}
        for key, value in values.items():
            setattr(existing, key, value)
        existing.save(update_fields=list(values))
        identity, action = existing, "identity_renew"
    else:
        before = None
        identity = Identity.objects.create(county_code=resident.county_code, resident=resident, code=code, **values)
        action = "identity_add"
    event_record(
        county_code=resident.county_code, entity="resident", entity_id=resident.pk, action=action, actor=actor,
        before=before,
        after={"identity": identity.pk, "code": code, "department": dept,
               "valid_from": str(start) if start else None, "valid_to": str(end) if end else None},
        reason=_text(reason) or f"登记资助身份：{identity_name(code)}",
    )
    return identity


@transaction.atomic
def identity_end(*, actor, identity: Identity, valid_to, reason: str) -> Identity:
    """End an identity on `valid_to` (e.g. 低保 cancelled); the record stays for history."""
    scope = _scope(actor, "identities.import")
    identity = Identity.objects.select_for_update().select_related("resident").get(county_code=identity.county_code, pk=identity.pk)
    _require_region(scope, identity.resident.village_code)
    if scope is not None and scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        if _department_code(identity.department) != scope.department:
            raise PermissionDenied(f"只能终止本部门（{department_label(scope.department)}）认定的身份。")
    end = _date(valid_to, "终止日期")
    errors = {}
    if end is None:
        errors["valid_to"] = "请填写终止日期。"
    elif identity.valid_from and end < identity.valid_from:
        errors["valid_to"] = f"终止日期 {end} 早于起始日期 {identity.valid_from}。"
    if not _text(reason):
        errors["reason"] = "请填写终止原因（如：退出低保）。"
    if errors:
        raise ValidationError(errors)
    before = {"valid_to": str(identity.valid_to) if identity.valid_to else None}
    identity.valid_to = end
    identity.updated_at = timezone.now()
    identity.save(update_fields=["valid_to", "updated_at"])
    event_record(
        county_code=identity.county_code, entity="resident", entity_id=identity.resident_id, action="identity_end",
        actor=actor, before={"identity": identity.pk, "code": identity.code, **before},
        after={"identity": identity.pk, "code": identity.code, "valid_to": str(end)}, reason=_text(reason),
    )
    return identity


@transaction.atomic
def group_fact_add(*, actor, resident: Resident, group: str, event_date=None, note: str = "") -> GroupFact:
    """Record an enrollment-group fact (新生儿, 在校大学生, 外出务工人员 ...) with its event date."""
    scope = _scope(actor, "registry.edit")
    _require_region(scope, resident.village_code)
    try:
        code = group_code(group)
    except UnknownTerm as exc:
        raise ValidationError({"group": str(exc)}) from None
    day = _date(event_date, "事件日期")
    if day and day > business_today():
        raise ValidationError({"event_date": f"事件日期 {day} 晚于今天。"})
    if day and day < resident.birth_date:
        raise ValidationError({"event_date": f"事件日期 {day} 早于出生日期 {resident.birth_date}。"})
    if GroupFact.objects.filter(county_code=resident.county_code, resident=resident, group=code).exists():
        raise ValidationError({"group": f"{resident.name}已登记为“{group_name(code)}”。"})
    fact = GroupFact.objects.create(
        county_code=resident.county_code, resident=resident, group=code, event_date=day, note=_text(note)[:200]
    )
    event_record(
        county_code=resident.county_code, entity="resident", entity_id=resident.pk, action="group_add", actor=actor,
        after={"group": code, "event_date": str(day) if day else None}, reason=_text(note) or f"登记参保群体：{group_name(code)}",
    )
    return fact


@transaction.atomic
def group_fact_remove(*, actor, fact: GroupFact, reason: str) -> None:
    scope = _scope(actor, "registry.edit")
    resident = fact.resident
    _require_region(scope, resident.village_code)
    if not _text(reason):
        raise ValidationError({"reason": "请填写删除原因。"})
    event_record(
        county_code=fact.county_code, entity="resident", entity_id=resident.pk, action="group_remove", actor=actor,
        before={"group": fact.group, "event_date": str(fact.event_date) if fact.event_date else None},
        reason=_text(reason),
    )
    fact.delete()

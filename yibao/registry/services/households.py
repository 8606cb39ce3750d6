"""Households and residents: registering a household, adding a member, the head, a resident's
status, details and move to another village (carrying the open years' rows with them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.core.clock import business_today
from yibao.core.services import event_bulk_record, event_record
from yibao.regions.models import Region
from yibao.registry.models import Flag, Household, Resident
from yibao.registry.services.common import (
    HEAD,
    CheckedPerson,
    _already_registered,
    _require_region,
    _scope,
    _text,
    _village,
    _where,
    person_check,
)
from yibao.registry.services.flags import _detect_flags, flag_create


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

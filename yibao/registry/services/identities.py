"""Identities (资助身份) and group facts (参保群体): added and ended, each with an event."""

from __future__ import annotations


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.accounts.roles import Department, Role, department_label
from yibao.core.clock import business_today
from yibao.core.services import event_record
from yibao.policy.vocabulary import IDENTITY_BY_CODE, UnknownTerm, group_code, group_name, identity_code, identity_name
from yibao.registry.models import GroupFact, Identity, Resident
from yibao.registry.services.common import _date, _require_region, _scope, _text


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

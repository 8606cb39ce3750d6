"""Flags on a resident (疑似重复, 出生日期与身份证号不符 …): raised, and resolved by a person."""

from __future__ import annotations


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.core.clock import business_now
from yibao.core.services import actor_fields, event_record
from yibao.registry.models import EmployeeInsuranceRecord, Flag, Resident
from yibao.registry.services.common import _require_region, _scope, _text


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

"""催缴 marks: 已联系, 拒缴, 已迁出, 已参加职工医保, 已死亡."""

from __future__ import annotations


from django.core.exceptions import ValidationError
from django.db import transaction

from yibao.core.services import actor_fields, event_record
from yibao.enrollment.models import Enrollment
from yibao.progress import selectors
from yibao.progress.models import RemindMark
from yibao.registry.models import Resident
from yibao.progress.services.common import _scope
from yibao.progress.services.refresh import progress_refresh



# ---------------------------------------------------------------- 催缴 marks


@transaction.atomic
def remind_mark(*, actor, resident: Resident, benefit_year: int, outcome: str, note: str = "") -> RemindMark:
    """Mark one of last year's enrollees: 已联系 or 拒缴 (records: the person stays on the list, 拒缴 counted
    apart and with a required 说明), or 已迁出 / 已参加职工医保 / 已死亡.

    The last three end the enrollment through the enrollment services (迁出、职工医保: 参保暂停 of last
    year's cover, which runs to 31 December; 死亡: 参保终止), free this year's unpaid registration,
    and update the register (迁出、死亡: the resident's status; 职工医保: a flag the county confirms).
    """
    from yibao.enrollment.services import enrollment_end
    from yibao.registry.models import Flag
    from yibao.registry.services import flag_create, resident_status_change

    scope = _scope(actor, "remind.mark")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if scope is not None:
        scope.require_region(resident.village_code)
    note = (note or "").strip()
    if outcome not in RemindMark.Outcome.values:
        raise ValidationError({"outcome": f"未知的催缴结果：{outcome}（应为已联系、拒缴、已迁出、已参加职工医保或已死亡）"})
    if len(note) > 300:
        raise ValidationError({"note": "说明不能超过300个字。"})
    label = RemindMark.Outcome(outcome).label
    last = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=benefit_year - 1).first()
    if not selectors.was_covered(last):
        raise ValidationError(f"{resident.name} 上年度（{benefit_year - 1}年度）未在本县参保，不在催缴名单中。")
    this = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=benefit_year).first()
    if this is not None and this.status == Enrollment.Status.PAID:
        raise ValidationError(
            f"{resident.name} 已缴纳{benefit_year}年度参保费；如已迁出、参加职工医保或死亡，请办理参保暂停（终止）和退费。"
        )
    if outcome != RemindMark.Outcome.CONTACTED and not note:
        example = ("如：不愿参保的原因、由谁何时上门" if outcome == RemindMark.Outcome.REFUSED
                   else "如：2024年10月迁往合肥市、已在某单位参加职工医保、死亡日期")
        raise ValidationError({"note": f"标记“{label}”须填写说明（{example}）。"})
    reason = f"催缴核实：{label}" + (f"（{note}）" if note else "")
    effects: list[str] = []
    if outcome in (RemindMark.Outcome.MOVED_AWAY, RemindMark.Outcome.EMPLOYEE):
        if last.status == Enrollment.Status.PAID:
            enrollment_end(enrollment=last, action="suspend", reason=reason, actor=actor, release_claim=False)
            effects.append(f"{benefit_year - 1}年度参保关系已暂停（待遇享受至年底）")
        if this is not None and this.status == Enrollment.Status.REGISTERED:
            enrollment_end(enrollment=this, action="suspend", reason=reason, actor=actor, release_claim=True)
            effects.append(f"{benefit_year}年度未缴费的参保登记已暂停")
    elif outcome == RemindMark.Outcome.DECEASED:
        if last.status != Enrollment.Status.TERMINATED:
            enrollment_end(enrollment=last, action="terminate", reason=reason, actor=actor, release_claim=False)
            effects.append(f"{benefit_year - 1}年度参保关系已终止")
        if this is not None and this.status in (Enrollment.Status.REGISTERED, Enrollment.Status.SUSPENDED):
            enrollment_end(enrollment=this, action="terminate", reason=reason, actor=actor, release_claim=True)
            effects.append(f"{benefit_year}年度参保登记已终止")
    if outcome == RemindMark.Outcome.MOVED_AWAY and resident.status == Resident.Status.ACTIVE:
        resident_status_change(actor=actor, resident=resident, status=Resident.Status.MOVED_AWAY, reason=reason, source="remind")
        effects.append("户籍状态改为已迁出")
    elif outcome == RemindMark.Outcome.DECEASED and resident.status != Resident.Status.DECEASED:
        resident_status_change(actor=actor, resident=resident, status=Resident.Status.DECEASED, reason=reason, source="remind")
        effects.append("户籍状态改为已死亡")
    elif outcome == RemindMark.Outcome.EMPLOYEE:
        flag_create(actor=actor, resident=resident, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail=f"催缴核实：{note}")
        effects.append("已标记“已参加职工医保”，待县医保局核实")
    who = actor_fields(actor)
    mark = RemindMark.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        benefit_year=benefit_year, resident=resident, outcome=outcome, note=note,
        marked_by=who["actor"], marked_by_name=who["actor_name"],
    )
    event_record(
        county_code=resident.county_code, entity="remind", entity_id=resident.pk, action=outcome, actor=actor,
        after={"benefit_year": benefit_year, "outcome": outcome, "note": note, "mark": mark.pk, "effects": effects},
        reason=reason,
    )
    if effects or outcome == RemindMark.Outcome.REFUSED:  # 拒缴 moves the day's 其中拒缴 figure
        progress_refresh(county_code=resident.county_code, benefit_year=benefit_year, village_codes=[resident.village_code])
    mark.effects = effects
    return mark

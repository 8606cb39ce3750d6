"""The rest of the enrollment lifecycle: suspend, resume, terminate, transfer, tier, and enrollments
that follow a resident's status (迁出、死亡)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.core.clock import business_today
from yibao.core.services import event_record
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import enrollment_active_elsewhere
from yibao.regions.selectors import county_label
from yibao.registry.models import Resident
from yibao.enrollment.services.assessment import assessment_refresh
from yibao.enrollment.services.campaigns import _check
from yibao.enrollment.services.contract import (
    EnrollmentError,
    _check_tier,
    _snapshot,
    enrollment_end,
    enrollment_register,
)


# ---------------------------------------------------------------- the enrollment lifecycle


TERMINATION_CAUSES = {
    "death": "死亡",
    "employee_insurance": "参加职工医保",
    "moved_away": "迁出本县",
}


def _locked(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.select_for_update().select_related("resident", "campaign").get(county_code=enrollment.county_code, pk=enrollment.pk)


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise EnrollmentError(f"请填写{what}。")
    return text[:200]


@transaction.atomic
def enrollment_register_checked(*, resident: Resident, campaign: Campaign, actor, tier: int = 1) -> Enrollment:
    """enrollment_register for a page or the API: the actor must be allowed to register here."""
    _check(actor, "enrollment.edit", resident.village_code)
    from yibao.enrollment.models import Assessment

    enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor, tier=tier)
    if enrollment.tier != tier and enrollment.status == Enrollment.Status.REGISTERED:
        enrollment = enrollment_choose_tier(enrollment=enrollment, tier=tier, actor=actor)
    elif Assessment.objects.filter(campaign=campaign, resident=resident).exclude(tier=enrollment.tier).exists():
        assessment_refresh(campaign=campaign, resident=resident)
    return enrollment


@transaction.atomic
def enrollment_suspend(*, enrollment: Enrollment, actor, reason: str) -> Enrollment:
    """参保暂停 at the old place before registering elsewhere (moving, studying, marrying away).

    A paid enrollment keeps this year's benefits to 31 December and keeps the year's claim (no
    second enrollment this year); next year the person may register at the new place. An unpaid
    one has nothing to keep: the year's claim is freed so the new place can register them now.
    """
    _check(actor, "enrollment.edit", enrollment.village_code)
    reason = _required(reason, "暂停原因（如：迁往外地、在外地参保）")
    enrollment = _locked(enrollment)
    if enrollment.status not in (Enrollment.Status.REGISTERED, Enrollment.Status.PAID):
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，不能暂停。")
    unpaid = enrollment.status == Enrollment.Status.REGISTERED
    return enrollment_end(enrollment=enrollment, action="suspend", reason=f"参保暂停：{reason}", actor=actor,
                          release_claim=unpaid)


@transaction.atomic
def enrollment_resume(*, enrollment: Enrollment, actor, reason: str) -> Enrollment:
    """Undo a suspension in the same year (the person stayed after all)."""
    _check(actor, "enrollment.edit", enrollment.village_code)
    reason = _required(reason, "恢复原因")
    enrollment = _locked(enrollment)
    if enrollment.status != Enrollment.Status.SUSPENDED:
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，只有参保暂停的才能恢复。")
    if enrollment.campaign.status == Campaign.Status.CLOSED:
        raise EnrollmentError(f"{enrollment.benefit_year}年度征缴已结束，不能恢复。")
    resident = enrollment.resident
    if not EnrollmentClaim.objects.filter(enrollment_id=enrollment.pk, released_at__isnull=True).exists():
        elsewhere = enrollment_active_elsewhere(resident=resident, benefit_year=enrollment.benefit_year)
        if elsewhere is not None:
            raise EnrollmentError(
                f"{resident.name} 已在{county_label(elsewhere.county_code)}登记{enrollment.benefit_year}年度居民医保，不能恢复本地参保。"
            )
        try:
            with transaction.atomic():
                EnrollmentClaim.objects.create(
                    id_number=enrollment.id_number, benefit_year=enrollment.benefit_year,
                    county_code=enrollment.county_code, enrollment_id=enrollment.pk,
                )
        except IntegrityError:
            raise EnrollmentError(
                f"{resident.name} 的{enrollment.benefit_year}年度参保已在其他地方登记，不能恢复本地参保。"
            ) from None
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.PAID if enrollment.benefit_start else Enrollment.Status.REGISTERED
    enrollment.status_reason = f"恢复参保：{reason}"
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="resumed",
        actor=actor, before=before, after=_snapshot(enrollment), reason=reason,
    )
    return enrollment


@transaction.atomic
def enrollment_terminate(
    *, enrollment: Enrollment, cause: str, actor, reason: str = "", effective_on=None, update_registry: bool = True
) -> Enrollment:
    """参保终止 on death, joining 职工医保, or moving away from the county.

    Benefits end on `effective_on` when it falls inside the benefit period. An unpaid enrollment
    frees the year's claim (the person may enroll where they went); a paid one keeps it until a
    refund (collection) releases it. With `update_registry` the register follows: the resident
    becomes 已死亡 / 已迁出, or gets a 职工医保 flag that blocks resident enrollment until cleared.
    """
    from django.core.exceptions import ValidationError

    _check(actor, "enrollment.edit", enrollment.village_code)
    if cause not in TERMINATION_CAUSES:
        raise EnrollmentError(f"未知的终止原因：{cause}（应为 {'、'.join(TERMINATION_CAUSES)}）")
    enrollment = _locked(enrollment)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止。")
    label = TERMINATION_CAUSES[cause]
    detail = (reason or "").strip()
    text = f"{label}：{detail}" if detail else label
    unpaid = enrollment.status in (Enrollment.Status.REGISTERED,) or (
        enrollment.status == Enrollment.Status.SUSPENDED and enrollment.benefit_start is None
    )
    enrollment = enrollment_end(
        enrollment=enrollment, action="terminate", reason=f"参保终止（{text}）"[:200], actor=actor,
        release_claim=unpaid, benefit_end=effective_on,
    )
    if update_registry:
        from yibao.registry import services as registry

        resident = enrollment.resident
        try:
            if cause in ("death", "moved_away") and resident.status == Resident.Status.ACTIVE:
                status = Resident.Status.DECEASED if cause == "death" else Resident.Status.MOVED_AWAY
                registry.resident_status_change(actor=actor, resident=resident, status=status,
                                                reason=f"参保终止：{text}", source="enrollment")
            elif cause == "employee_insurance":
                registry.flag_create(actor=actor, resident=resident, kind="employee_insurance",
                                     detail=f"{enrollment.benefit_year}年度参保终止：{text}")
        except ValidationError as exc:
            raise EnrollmentError("；".join(exc.messages)) from None
    return enrollment


@transaction.atomic
def enrollments_follow_resident_status(*, actor, resident: Resident, status: str, reason: str) -> list[Enrollment]:
    """户籍维护 set the resident 已死亡 or 已迁出: the enrollments whose benefit year has not ended
    follow, as a 催缴 mark of the same outcome ends them (the register already says so).

    死亡: every live enrollment (registered, paid, suspended) is terminated, benefits ending today.
    迁出: a registered or paid one is suspended (参保暂停): a paid one keeps its benefits to the end
    of its period, an unpaid one frees its year so the new county can register the person; if the
    person did not leave after all, 恢复参保 undoes it. A refund, if due, goes through 退费.
    """
    if status not in (Resident.Status.DECEASED, Resident.Status.MOVED_AWAY):
        return []
    death = status == Resident.Status.DECEASED
    live = [Enrollment.Status.REGISTERED, Enrollment.Status.PAID] + ([Enrollment.Status.SUSPENDED] if death else [])
    today = business_today()
    ended = []
    for enrollment in Enrollment.objects.filter(
        county_code=resident.county_code, resident=resident, status__in=live, benefit_year__gte=today.year,
    ).order_by("benefit_year"):
        if death:
            ended.append(enrollment_terminate(enrollment=enrollment, cause="death", actor=actor,
                                              reason=f"户籍状态变更：{reason}", effective_on=today, update_registry=False))
        else:
            ended.append(enrollment_suspend(enrollment=enrollment, actor=actor, reason=f"户籍状态变更：已迁出（{reason}）"))
    return ended


@transaction.atomic
def enrollment_transfer(
    *, enrollment: Enrollment, to_village_code: str, actor, reason: str, household=None, relation: str = ""
) -> Enrollment:
    """Transfer within the county (村际迁移): the resident moves (registry.resident_move), which carries
    this and any later year's live enrollments and their assessments to the new village."""
    from django.core.exceptions import ValidationError

    from yibao.registry.services import resident_move

    to_village_code = (to_village_code or "").strip()
    _check(actor, "enrollment.edit", enrollment.village_code, to_village_code or enrollment.village_code)
    reason = _required(reason, "迁移原因（如：婚迁、购房迁入）")
    enrollment = _locked(enrollment)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止，不能迁移。")
    resident = enrollment.resident
    try:
        resident_move(actor=actor, resident=resident, to_village_code=to_village_code, household=household,
                      relation=relation, reason=reason, from_year=enrollment.benefit_year)
    except ValidationError as exc:
        raise EnrollmentError("；".join(exc.messages)) from None
    return Enrollment.objects.get(pk=enrollment.pk)


@transaction.atomic
def enrollment_choose_tier(*, enrollment: Enrollment, tier: int, actor, reason: str = "") -> Enrollment:
    """缴费档次 for policies with more than one tier (新民镇: 一档、二档), before paying."""
    _check(actor, "enrollment.edit", enrollment.village_code)
    enrollment = _locked(enrollment)
    _check_tier(enrollment.campaign, tier)
    if enrollment.tier == tier:
        return enrollment
    if enrollment.status != Enrollment.Status.REGISTERED:
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，缴费后不能变更档次。")
    before = {"tier": enrollment.tier}
    enrollment.tier = tier
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["tier", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="tier",
        actor=actor, before=before, after={"tier": tier}, reason=(reason or "").strip() or f"选择{tier}档缴费",
    )
    assessment_refresh(campaign=enrollment.campaign, resident=enrollment.resident)
    return enrollment

"""The contract that payments rely on: finding or registering the enrollment a payment books to,
marking it paid, and ending it with a refund. No one is enrolled twice for a year: within a county
the (county, resident, year) constraint, across counties the EnrollmentClaim constraint."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.core.clock import business_now, business_today
from yibao.core.services import event_record
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import enrollment_active_elsewhere
from yibao.regions.selectors import county_label
from yibao.registry.models import Resident
from yibao.registry.selectors import resident_enrollment_block


class EnrollmentError(ValueError):
    """The enrollment cannot be made or changed; the message is Chinese and says why."""


def _snapshot(enrollment: Enrollment) -> dict:
    return {
        "status": enrollment.status,
        "benefit_start": enrollment.benefit_start.isoformat() if enrollment.benefit_start else None,
        "benefit_end": enrollment.benefit_end.isoformat() if enrollment.benefit_end else None,
        "village_code": enrollment.village_code,
    }


def _check_tier(campaign: Campaign, tier: int) -> None:
    from yibao.policy.loader import PolicyNotFound, load_policy

    try:
        tiers = load_policy(campaign.policy_id).data.contribution.tiers()
    except PolicyNotFound:
        return
    if tier not in tiers:
        allowed = "、".join(f"{t}档" for t in sorted(tiers))
        raise EnrollmentError(f"政策 {campaign.policy_id} 只设{allowed}缴费标准，没有{tier}档。")


def _previous_place_still_active(resident: Resident, benefit_year: int) -> Enrollment | None:
    """Last year's enrollment in another county that was not suspended (参保暂停 comes first)."""
    return (
        Enrollment.objects.filter(id_number=resident.id_number, benefit_year=benefit_year - 1)
        .exclude(county_code=resident.county_code)
        .filter(status__in=[Enrollment.Status.PAID, Enrollment.Status.REGISTERED])
        .first()
    )


@transaction.atomic
def enrollment_register(*, resident: Resident, campaign: Campaign, actor, tier: int = 1, on=None) -> Enrollment:
    """参保登记 (first registration) or 续保 (renewal) for the campaign's year; returns the existing
    enrollment when there is one. Raises EnrollmentError when the resident may not enroll.

    `on` is the day of the payment the registration is for (default: the business day). A closed
    year registers only whom its policy accepts on that day under a late rule (新生儿 and the like),
    as the booking gate and the quote decide (collection.selectors.closed_year_registration_refusal).
    """
    if resident.county_code != campaign.county_code:
        raise EnrollmentError(f"{resident.name} 不属于{county_label(campaign.county_code)}，不能在本县参保。")
    existing = (
        Enrollment.objects.select_for_update()
        .filter(county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year)
        .first()
    )
    if existing is not None:
        if existing.status == Enrollment.Status.TERMINATED:
            raise EnrollmentError(f"{resident.name} 的{campaign.benefit_year}年度参保关系已终止（{existing.status_reason}），不能再缴费。")
        return existing
    if campaign.imported:
        raise EnrollmentError(f"{campaign.history_note}，不能办理参保登记。")
    _check_tier(campaign, tier)
    if campaign.status == Campaign.Status.CLOSED:
        from yibao.collection.selectors import closed_year_registration_refusal

        refusal = closed_year_registration_refusal(resident=resident, campaign=campaign, on=on or business_today(),
                                                   tier=tier)
        if refusal:
            raise EnrollmentError(refusal.rstrip("。") + "。")
    if resident.status != Resident.Status.ACTIVE:
        raise EnrollmentError(f"{resident.name} 的户籍状态为“{resident.get_status_display()}”，不能参保。")
    block = resident_enrollment_block(resident)
    if block:
        raise EnrollmentError(f"{resident.name} 暂不能参保：{block}")
    elsewhere = enrollment_active_elsewhere(resident=resident, benefit_year=campaign.benefit_year)
    if elsewhere is not None:
        raise EnrollmentError(
            f"{resident.name} 已在{county_label(elsewhere.county_code)}登记{campaign.benefit_year}年度居民医保，不得重复参保。"
        )
    previous = _previous_place_still_active(resident, campaign.benefit_year)
    if previous is not None:
        raise EnrollmentError(
            f"{resident.name} 上年在{county_label(previous.county_code)}参保，须先在原参保地办理“参保暂停”，再在本地登记。"
        )
    renewal = Enrollment.objects.filter(
        county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year - 1,
        status__in=[Enrollment.Status.PAID, Enrollment.Status.SUSPENDED],
    ).exists()
    enrollment = Enrollment(
        county_code=resident.county_code,
        township_code=resident.township_code,
        village_code=resident.village_code,
        campaign=campaign,
        benefit_year=campaign.benefit_year,
        resident=resident,
        id_number=resident.id_number,
        kind=Enrollment.Kind.RENEWAL if renewal else Enrollment.Kind.FIRST,
        tier=tier,
        registered_at=business_now(),
    )
    try:
        with transaction.atomic():
            enrollment.save()
            EnrollmentClaim.objects.create(
                id_number=resident.id_number, benefit_year=campaign.benefit_year,
                county_code=campaign.county_code, enrollment_id=enrollment.pk,
            )
    except IntegrityError:
        # someone registered the same person a moment ago: here, that is the enrollment to use;
        # in another county (the claim), it is a second enrollment and is refused
        concurrent = Enrollment.objects.filter(
            county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year
        ).first()
        if concurrent is not None and concurrent.status != Enrollment.Status.TERMINATED:
            return concurrent
        raise EnrollmentError(f"{resident.name} 的{campaign.benefit_year}年度参保登记已存在（可能刚由他人办理），请刷新后重试。") from None
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="registered",
        actor=actor, after=_snapshot(enrollment) | {"kind": enrollment.kind},
        reason=enrollment.get_kind_display(),
    )
    return enrollment


@transaction.atomic
def enrollment_mark_paid(*, enrollment: Enrollment, benefit_start, benefit_end, actor, reason: str = "缴费入账") -> Enrollment:
    enrollment = Enrollment.objects.select_for_update().get(county_code=enrollment.county_code, pk=enrollment.pk)
    if enrollment.status not in (Enrollment.Status.REGISTERED, Enrollment.Status.PAID):
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，不能入账。")
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.PAID
    enrollment.status_reason = reason
    enrollment.benefit_start, enrollment.benefit_end = benefit_start, benefit_end
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "benefit_start", "benefit_end", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="paid",
        actor=actor, before=before, after=_snapshot(enrollment), reason=reason,
    )
    return enrollment


@transaction.atomic
def enrollment_end(
    *, enrollment: Enrollment, action: str, reason: str, actor, release_claim: bool, benefit_end=None
) -> Enrollment:
    """参保暂停 (action 'suspend') or 参保终止 ('terminate').

    A suspension keeps this year's benefits (to 31 December, as the notices say) and lets the
    person register elsewhere next year; `release_claim` also frees this year's claim, when the
    contribution is refunded before the benefit period begins. `benefit_end` (a termination on
    death, say) ends the benefit period early when it falls inside it.
    """
    enrollment = Enrollment.objects.select_for_update().get(county_code=enrollment.county_code, pk=enrollment.pk)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止。")
    if action not in ("suspend", "terminate"):
        raise EnrollmentError(f"未知的处理方式：{action}")
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.SUSPENDED if action == "suspend" else Enrollment.Status.TERMINATED
    enrollment.status_reason = reason
    enrollment.updated_at = timezone.now()
    if release_claim:
        enrollment.benefit_start = enrollment.benefit_end = None
    elif benefit_end is not None and enrollment.benefit_start and enrollment.benefit_end:
        if enrollment.benefit_start <= benefit_end < enrollment.benefit_end:
            enrollment.benefit_end = benefit_end
    enrollment.save(update_fields=["status", "status_reason", "benefit_start", "benefit_end", "updated_at"])
    if release_claim:
        EnrollmentClaim.objects.filter(enrollment_id=enrollment.pk, released_at__isnull=True).update(released_at=timezone.now())
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk,
        action="suspended" if action == "suspend" else "terminated",
        actor=actor, before=before, after=_snapshot(enrollment) | {"claim_released": release_claim}, reason=reason,
    )
    return enrollment

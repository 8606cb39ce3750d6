"""已整改: the party responsible for a reconciliation difference says it has fixed its cause.

Who may say so is who must fix it (Mismatch.responsible): a village's collectors (and the township
over them) for 村征收员, the township's officers for 乡镇, the county tax officers for 税务, the
county 医保 administrators for 医保经办. The mark is a statement, not proof: the next run checks the
money again, and a difference it still finds is listed again, not rectified.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.accounts.roles import Role
from yibao.accounts.scope import Scope, actor_scope
from yibao.core.clock import business_now
from yibao.core.services import actor_fields, event_record
from yibao.reconciliation.models import Mismatch

# the roles that answer for each responsible party, inside the difference's region
RECTIFY_ROLES: dict[str, frozenset[str]] = {
    Mismatch.Responsible.COLLECTOR: frozenset({Role.VILLAGE_COLLECTOR, Role.TOWNSHIP_OFFICER}),
    Mismatch.Responsible.TOWNSHIP: frozenset({Role.TOWNSHIP_OFFICER}),
    Mismatch.Responsible.TAX: frozenset({Role.TAX_OFFICER}),
    Mismatch.Responsible.YIBAO: frozenset({Role.COUNTY_ADMIN}),
}


def rectify_refusal(scope: Scope | None, mismatch: Mismatch) -> str:
    """Why this scope may not mark the difference 已整改 ("" when it may). None: the command line."""
    if mismatch.rectified_at is not None:
        return f"该差异已于 {timezone.localtime(mismatch.rectified_at):%Y-%m-%d} 由{mismatch.rectified_by_name}标记为已整改。"
    if scope is None or scope.superuser:
        return ""
    if scope.read_only or not scope.can("reconcile.view"):
        return "当前账号无权整改对账差异。"
    place = mismatch.village_code or mismatch.township_code or mismatch.county_code
    if not scope.contains(place) or not scope.covers_county(mismatch.county_code):
        return "该差异不在当前账号的管辖范围内。"
    if scope.role not in RECTIFY_ROLES.get(mismatch.responsible, frozenset()):
        return f"该差异由{mismatch.get_responsible_display()}（{mismatch.responsible_name}）整改，当前账号不能标记。"
    return ""


def may_rectify(scope: Scope | None, mismatch: Mismatch) -> bool:
    return not rectify_refusal(scope, mismatch)


def mismatch_rectify(*, mismatch: Mismatch, actor, note: str = "") -> Mismatch:
    """Mark a difference 已整改 with an optional note; once only, and an Event records it."""
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise ValidationError({"note": "整改说明最多200字。"})
    with transaction.atomic():
        locked = Mismatch.objects.select_for_update().get(county_code=mismatch.county_code, pk=mismatch.pk)
        refusal = rectify_refusal(actor_scope(actor), locked)
        if refusal:
            if locked.rectified_at is not None:
                raise ValidationError(refusal)
            raise PermissionDenied(refusal)
        who = actor_fields(actor)
        locked.rectified_at = business_now()
        locked.rectified_by = who["actor"]
        locked.rectified_by_name = who["actor_name"][:150]
        locked.rectified_note = note
        locked.save(update_fields=["rectified_at", "rectified_by", "rectified_by_name", "rectified_note"])
        event_record(
            county_code=locked.county_code, entity="mismatch", entity_id=locked.pk, action="rectify", actor=actor,
            before={"status": "待整改"},
            after={"status": "已整改", "kind": locked.get_kind_display(), "person": locked.person_name,
                   "difference": str(locked.difference), "run": locked.run_id},
            reason=note or f"{locked.get_kind_display()}已整改",
        )
    return locked

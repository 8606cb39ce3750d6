"""Status changes that ask once and can be undone (撤销) for 10 minutes by the one who made them.

A page's status change (参保暂停、参保终止、县内迁移、催缴标记) runs through `status_change_apply`:
it snapshots everything of the resident that such a change can touch (the resident row, their
enrollments and cross-county claims, assessments, 催缴 marks, flags, households), runs the
service, snapshots again and keeps both in a `StatusChange` row. `status_change_preview` runs the
same service in a transaction it rolls back, to say exactly what would change. `status_change_undo`
puts the first snapshot back, provided nothing touched those records since, and writes `undo` events.

The 10 minutes are wall-clock time (timezone.now), not the business day of yibao.core.clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.accounts.scope import actor_scope
from yibao.core.models import Event
from yibao.core.services import actor_fields, event_record
from yibao.registry.models import Flag, Household, Resident, StatusChange

RESIDENT_FIELDS = ("status", "village_code", "township_code", "household_id", "relation_to_head",
                   "hukou_region_code", "residence_region_code")
ENROLLMENT_FIELDS = ("status", "status_reason", "benefit_start", "benefit_end", "village_code", "township_code")


class UndoError(ValueError):
    """The change cannot be undone; the message is Chinese and says why."""


def _text(value) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _last_event_id() -> int:
    return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _snapshot(resident_id: int, households=()) -> dict:
    """What a status change of this resident may touch, as plain JSON."""
    from yibao.enrollment.models import Assessment, Enrollment, EnrollmentClaim
    from yibao.progress.models import RemindMark

    r = Resident.objects.get(pk=resident_id)
    enrollments = list(Enrollment.objects.filter(county_code=r.county_code, resident_id=r.pk).order_by("pk"))
    claims = EnrollmentClaim.objects.filter(id_number=r.id_number, enrollment_id__in=[e.pk for e in enrollments])
    house_ids = {int(h) for h in households} | set(
        Household.objects.filter(county_code=r.county_code, head_id=r.pk).values_list("pk", flat=True))
    if r.household_id:
        house_ids.add(r.household_id)
    return {
        "resident": {f: getattr(r, f) for f in RESIDENT_FIELDS},
        "enrollments": {str(e.pk): {"benefit_year": e.benefit_year, **{f: _text(getattr(e, f)) for f in ENROLLMENT_FIELDS}}
                        for e in enrollments},
        "claims": {str(c.pk): {"enrollment_id": c.enrollment_id, "released_at": _text(c.released_at)} for c in claims},
        "assessments": {str(a.pk): [a.village_code, a.township_code]
                        for a in Assessment.objects.filter(county_code=r.county_code, resident_id=r.pk)},
        "marks": sorted(RemindMark.objects.filter(resident_id=r.pk).values_list("pk", flat=True)),
        "flags": {str(f.pk): _text(f.resolved_at) for f in Flag.objects.filter(resident_id=r.pk)},
        "households": {str(h.pk): h.head_id for h in Household.objects.filter(pk__in=house_ids)},
    }


def _status_label(model, value) -> str:
    return dict(model.Status.choices).get(value, value or "无")


def describe(before: dict, after: dict) -> list[str]:
    """The difference of two snapshots as short Chinese sentences (the confirmation sheet, the undo banner)."""
    from yibao.enrollment.models import Enrollment
    from yibao.progress.models import RemindMark
    from yibao.regions.selectors import region_label

    lines = []
    rb, ra = before["resident"], after["resident"]
    if rb["status"] != ra["status"]:
        lines.append(f"户籍状态改为{_status_label(Resident, ra['status'])}")
    if rb["village_code"] != ra["village_code"]:
        lines.append(f"迁往{region_label(ra['village_code'])}（原{region_label(rb['village_code'])}）")
    for pk, e in after["enrollments"].items():
        old = before["enrollments"].get(pk)
        if old is None:
            continue
        year = e["benefit_year"]
        if old["status"] != e["status"]:
            lines.append(f"{year}年度参保由“{_status_label(Enrollment, old['status'])}”改为“{_status_label(Enrollment, e['status'])}”")
        if old["benefit_end"] != e["benefit_end"] and e["benefit_end"]:
            lines.append(f"{year}年度待遇享受至{e['benefit_end']}")
    released = [c for pk, c in after["claims"].items()
                if c["released_at"] and not (before["claims"].get(pk) or {}).get("released_at")]
    for claim in released:
        year = after["enrollments"].get(str(claim["enrollment_id"]), {}).get("benefit_year", "")
        lines.append(f"释放{year}年度参保占位（可在其他地方登记）")
    new_marks = set(after["marks"]) - set(before["marks"])
    for mark in RemindMark.objects.filter(pk__in=new_marks):
        lines.append(f"催缴标记为{mark.get_outcome_display()}")
    for flag in Flag.objects.filter(pk__in=[int(pk) for pk in set(after["flags"]) - set(before["flags"])]):
        lines.append(f"标记“{flag.get_kind_display()}”，待县医保局核实")
    return lines


def _lock(resident: Resident) -> Resident:
    return Resident.objects.select_for_update().get(county_code=resident.county_code, pk=resident.pk)


class _Rollback(Exception):
    pass


def status_change_preview(*, resident: Resident, do: Callable[[], Any]) -> list[str]:
    """What `do` would change, said in Chinese; nothing is kept. The service's own refusal is raised as is."""
    lines: list[str] = []
    try:
        with transaction.atomic():
            _lock(resident)
            before = _snapshot(resident.pk)
            do()
            lines = describe(before, _snapshot(resident.pk, households=before["households"]))
            raise _Rollback
    except _Rollback:
        pass
    return lines


@transaction.atomic
def status_change_apply(*, actor, resident: Resident, kind: str, capability: str, title: str,
                        do: Callable[[], Any]) -> tuple[Any, StatusChange]:
    """Run `do` (the service) and keep what it changed, so its maker can undo it for 10 minutes."""
    locked = _lock(resident)
    before = _snapshot(resident.pk)
    first = _last_event_id()
    result = do()
    after = _snapshot(resident.pk, households=before["households"])
    who = actor_fields(actor)
    change = StatusChange.objects.create(
        county_code=locked.county_code, village_code=locked.village_code, resident_id=locked.pk, kind=kind,
        capability=capability, title=title[:200], lines=describe(before, after), before=before, after=after,
        first_event_id=first, last_event_id=_last_event_id(), actor=who["actor"], actor_name=who["actor_name"],
    )
    return result, change


def _same_actor(change: StatusChange, actor) -> bool:
    who = actor_fields(actor)
    if who["actor"] is not None:
        return change.actor_id == who["actor"].pk
    return change.actor_id is None and change.actor_name == who["actor_name"]


def status_change_check(*, change: StatusChange, actor, now=None) -> None:
    """Refuse, in Chinese, an undo this actor may not make now (the banner uses it to hide its button)."""
    scope = actor_scope(actor)
    if scope is not None:
        scope.require(change.capability)
        scope.require_region(change.village_code)
    if change.undone_at is not None:
        raise UndoError(f"这项变更已于 {timezone.localtime(change.undone_at):%H:%M} 撤销，不能再次撤销。")
    if not _same_actor(change, actor):
        raise UndoError(f"只有办理人（{change.actor_name}）本人可以撤销这项变更。")
    if (now or timezone.now()) > change.undo_until:
        raise UndoError(f"办理已超过 {StatusChange.UNDO_MINUTES} 分钟，不能撤销；请按正常流程办理（如恢复参保、户籍维护）。")


def _touched_since(change: StatusChange) -> bool:
    entities = [("resident", str(change.resident_id)), ("remind", str(change.resident_id))]
    entities += [("enrollment", pk) for pk in change.after["enrollments"]]
    from django.db.models import Q

    q = Q()
    for entity, entity_id in entities:
        q |= Q(entity=entity, entity_id=entity_id)
    return Event.objects.filter(q, pk__gt=change.last_event_id).exists()


def status_change_get(*, change_id) -> StatusChange:
    text = str(change_id).strip()
    change = None
    if text.isdigit() and len(text) <= 18:  # a bigint; anything else names no change
        change = StatusChange.objects.select_related("resident").filter(pk=int(text)).first()
    if change is None:
        raise UndoError(f"没有编号为 {change_id} 的可撤销变更。")
    return change


@transaction.atomic
def status_change_undo(*, change_id, actor) -> StatusChange:
    """Put back what change `change_id` changed, if its maker asks within 10 minutes and nothing changed since."""
    change = status_change_get(change_id=change_id)
    change = StatusChange.objects.select_for_update().get(county_code=change.county_code, pk=change.pk)
    status_change_check(change=change, actor=actor)
    resident = _lock(change.resident)
    now_state = _snapshot(resident.pk, households=change.after["households"])
    if now_state != change.after or _touched_since(change):
        raise UndoError(f"办理之后 {resident.name} 的记录又有变更，不能撤销；请按正常流程办理。")
    try:
        with transaction.atomic():
            _restore(change, resident, actor)
    except IntegrityError:
        raise UndoError(f"{resident.name} 已在其他地方登记参保，不能撤销。") from None
    change.undone_at = timezone.now()
    change.undone_by_name = actor_fields(actor)["actor_name"]
    change.save(update_fields=["undone_at", "undone_by_name"])
    event_record(
        county_code=change.county_code, entity="resident", entity_id=resident.pk, action="undo", actor=actor,
        before={"change": change.pk, **change.after["resident"]}, after=change.before["resident"],
        reason=f"撤销：{change.title}" + (f"（{'；'.join(change.lines)}）" if change.lines else ""),
    )
    from yibao.progress.services import progress_refresh_after_move

    progress_refresh_after_move(county_code=change.county_code,
                                village_codes=[change.before["resident"]["village_code"],
                                               change.after["resident"]["village_code"]])
    return change


def _restore(change: StatusChange, resident: Resident, actor) -> None:
    from yibao.enrollment.models import Assessment, Enrollment, EnrollmentClaim
    from yibao.progress.models import RemindMark

    before, after, now = change.before, change.after, timezone.now()
    reason = f"撤销：{change.title}"
    if before["resident"] != after["resident"]:
        for field, value in before["resident"].items():
            setattr(resident, field, value)
        resident.updated_at = now
        resident.save(update_fields=[*RESIDENT_FIELDS, "updated_at"])
    for pk, old in before["enrollments"].items():
        new = after["enrollments"].get(pk)
        if new is None or new == old:
            continue
        values = {f: old[f] for f in ENROLLMENT_FIELDS}
        Enrollment.objects.filter(pk=int(pk)).update(**values, updated_at=now)
        event_record(county_code=change.county_code, entity="enrollment", entity_id=pk, action="undo", actor=actor,
                     before={f: new[f] for f in ENROLLMENT_FIELDS if new[f] != old[f]},
                     after={f: old[f] for f in ENROLLMENT_FIELDS if new[f] != old[f]}, reason=reason)
    for pk, old in before["claims"].items():
        if after["claims"].get(pk, old) != old:
            EnrollmentClaim.objects.filter(pk=int(pk)).update(
                released_at=dt.datetime.fromisoformat(old["released_at"]) if old["released_at"] else None)
    EnrollmentClaim.objects.filter(pk__in=[int(pk) for pk in set(after["claims"]) - set(before["claims"])]).delete()
    for pk, (village, township) in before["assessments"].items():
        if after["assessments"].get(pk) != [village, township]:
            Assessment.objects.filter(pk=int(pk)).update(village_code=village, township_code=township)
    new_marks = set(after["marks"]) - set(before["marks"])
    if new_marks:
        RemindMark.objects.filter(pk__in=new_marks).delete()
        event_record(county_code=change.county_code, entity="remind", entity_id=resident.pk, action="undo",
                     actor=actor, before={"marks": sorted(new_marks)}, after=None, reason=reason)
    for pk, resolved in before["flags"].items():
        if after["flags"].get(pk, resolved) != resolved:
            Flag.objects.filter(pk=int(pk)).update(resolved_at=dt.datetime.fromisoformat(resolved) if resolved else None)
    new_flags = [int(pk) for pk in set(after["flags"]) - set(before["flags"])]
    for flag in Flag.objects.filter(pk__in=new_flags):
        event_record(county_code=change.county_code, entity="flag", entity_id=flag.pk, action="undo", actor=actor,
                     before={"kind": flag.kind, "detail": flag.detail}, after=None, reason=reason)
        flag.delete()
    for pk, head in before["households"].items():
        if after["households"].get(pk, head) != head:
            Household.objects.filter(pk=int(pk)).update(head_id=head, updated_at=now)
    for pk in set(after["households"]) - set(before["households"]):
        household = Household.objects.filter(pk=int(pk)).first()
        if household is not None and not household.members.exists():
            event_record(county_code=change.county_code, entity="household", entity_id=pk, action="undo",
                         actor=actor, before={"number": household.number, "village_code": household.village_code},
                         after=None, reason=reason)
            household.delete()
    _payments_back(change, actor, reason)


def _payments_back(change: StatusChange, actor, reason: str) -> None:
    """A move wrote an event for each booked payment now counted in the new village: say it counts back."""
    from yibao.collection.models import Payment

    mine = [str(pk) for pk in Payment.objects.filter(resident_id=change.resident_id).values_list("pk", flat=True)]
    moved = Event.objects.filter(
        pk__gt=change.first_event_id, pk__lte=change.last_event_id, county_code=change.county_code,
        entity="payment", action="transferred", entity_id__in=mine,
    ).order_by("pk")
    for ev in moved:
        if not isinstance(ev.after, dict) or not isinstance(ev.before, dict):
            continue
        event_record(county_code=change.county_code, entity="payment", entity_id=ev.entity_id, action="transferred",
                     actor=actor, before={"counted_in": ev.after.get("counted_in"), "taken_in": ev.after.get("taken_in")},
                     after={**ev.after, "counted_in": ev.before.get("counted_in")}, reason=reason)


def status_change_for_banner(*, change_id, actor) -> StatusChange | None:
    """The change a page may offer to undo (its maker, within 10 minutes, not undone), else None."""
    try:
        change = status_change_get(change_id=change_id)
        status_change_check(change=change, actor=actor)
    except (UndoError, PermissionDenied):
        return None
    return change


def change_out(change: StatusChange) -> dict:
    """The JSON of a change (API, CLI)."""
    return {
        "id": change.pk, "resident_id": change.resident_id, "kind": change.kind, "title": change.title,
        "lines": list(change.lines), "actor": change.actor_name, "created_at": change.created_at,
        "undo_until": change.undo_until, "undone_at": change.undone_at, "undone_by": change.undone_by_name,
    }

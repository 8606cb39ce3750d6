"""Reads of the registry, always within a scope: residents, households, identities, flags, review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from yibao.accounts.roles import Role, department_label, department_values
from yibao.accounts.scope import LEVEL_FIELD
from yibao.core.clock import business_today
from yibao.core.idnumber import InvalidIdNumber, check_id_number, normalize
from yibao.core.models import Event
from yibao.policy.vocabulary import IDENTITY_BY_CODE, group_name, identity_name
from yibao.registry.models import Flag, Household, Identity, Resident


def _county_filter(scope, queryset, prefix: str = ""):
    """The scope filter plus county_code, so lookups use the (county_code, …) indexes."""
    queryset = scope.filter(queryset, prefix=prefix)
    if scope.region_code:
        queryset = queryset.filter(**{prefix + "county_code": scope.county_code})
    return queryset


def _region_filter(queryset, region: str | None, prefix: str = ""):
    if region:
        queryset = queryset.filter(**{prefix + LEVEL_FIELD[len(region)]: region})
    return queryset


def check_region_param(scope, region: str | None) -> str | None:
    """A region filter named in a request must be a code inside the scope."""
    region = (region or "").strip() or None
    if region is None:
        return None
    if not (region.isdigit() and len(region) in LEVEL_FIELD):
        raise Http404(f"区划代码“{region}”无效。")
    scope.require_region(region)
    return region


def id_query(q: str) -> str | None:
    """The 18-character number a search text stands for (15 digits are upgraded), or None."""
    text = normalize(q)
    if len(text) in (15, 18) and text[:15].isdigit():
        try:
            return check_id_number(text).number
        except InvalidIdNumber:
            return text if len(text) == 18 else None
    return None


# ---------------------------------------------------------------- residents


def resident_search(
    *, scope, q: str | None = None, region: str | None = None, status: str | None = Resident.Status.ACTIVE,
    flagged: bool = False,
):
    """Residents within the scope: by whole ID number, by the last digits of one, or by name (exact first)."""
    residents = _county_filter(scope, Resident.objects.all())
    residents = _region_filter(residents, check_region_param(scope, region))
    if status:
        residents = residents.filter(status=status)
    if flagged:
        residents = residents.filter(Exists(Flag.objects.filter(resident=OuterRef("pk"), resolved_at__isnull=True)))
    q = (q or "").strip()
    if q:
        number = id_query(q)
        if number:
            residents = residents.filter(id_number=number)
        elif normalize(q).rstrip("X").isdigit() and len(normalize(q)) >= 4:
            residents = residents.filter(id_number__endswith=normalize(q))
        else:
            residents = residents.filter(Q(name=q) | Q(name__startswith=q))
    return residents.select_related("household").order_by("village_code", "household_id", "id")


def resident_get(*, scope, pk: int) -> Resident:
    resident = _county_filter(scope, Resident.objects.select_related("household")).filter(pk=pk).first()
    if resident is None:
        raise Http404("参保人不存在或不在您的管辖范围内。")
    return resident


def household_get(*, scope, pk: int) -> Household:
    household = _county_filter(scope, Household.objects.select_related("head")).filter(pk=pk).first()
    if household is None:
        raise Http404("家庭户不存在或不在您的管辖范围内。")
    return household


def household_members(*, household: Household) -> list[Resident]:
    """The members, head first, then by relation and age."""
    members = list(household.members.filter(county_code=household.county_code).order_by("birth_date", "id"))
    members.sort(key=lambda m: (m.pk != household.head_id, m.status != Resident.Status.ACTIVE))
    return members


@dataclass(frozen=True)
class IdentityRow:
    identity: Identity
    name: str
    department: str
    active: bool


def identity_rows(identities, *, on: dt.date | None = None) -> list[IdentityRow]:
    day = on or business_today()
    return [
        IdentityRow(identity=i, name=identity_name(i.code), department=department_label(i.department), active=i.active_on(day))
        for i in identities
    ]


def resident_events(*, resident: Resident, limit: int = 50) -> list[Event]:
    return list(
        Event.objects.filter(county_code=resident.county_code, entity="resident", entity_id=str(resident.pk))
        .order_by("-at", "-id")[:limit]
    )


def resident_enrollment_block(resident: Resident) -> str | None:
    """Why this resident may not enroll now (Chinese), or None. Issue 4 calls it before enrollment."""
    reasons = []
    if resident.status != Resident.Status.ACTIVE:
        reasons.append(f"该居民状态为“{resident.get_status_display()}”，不能参保")
    for flag in Flag.objects.filter(resident=resident).order_by("created_at"):
        detail = f"（{flag.detail}）" if flag.detail else ""
        if flag.resolved_at is None:
            reasons.append(f"{flag.get_kind_display()}{detail}，待县医保局核实处理")
        elif flag.outcome == Flag.Outcome.CONFIRMED:
            reasons.append(f"经核实{flag.get_kind_display()}{detail}，不能在本县参加城乡居民医保（{flag.resolution}）")
    return "；".join(reasons) + "。" if reasons else None


def resident_detail(*, scope, pk: int) -> dict:
    from yibao.core.selectors import event_shown

    resident = resident_get(scope=scope, pk=pk)
    identities = resident.identities.filter(county_code=resident.county_code).order_by("valid_from", "id")
    if scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        identities = identities.filter(department__in=department_values(scope.department))
    return {
        "resident": resident,
        "household": resident.household,
        "identities": identity_rows(identities),
        "group_facts": [
            {"fact": f, "name": group_name(f.group)}
            for f in resident.group_facts.filter(county_code=resident.county_code).order_by("group")
        ],
        "flags": list(resident.flags.filter(county_code=resident.county_code).order_by("-created_at")),
        "enrollment_block": resident_enrollment_block(resident),
        "events": [event_shown(e, scope=scope) for e in resident_events(resident=resident)],
    }


def resident_badges(residents: list[Resident]) -> dict[int, dict]:
    """Identity names, open flags and confirmed duplicates for a page of residents (three queries)."""
    ids = [r.pk for r in residents]
    out = {pk: {"identities": [], "flags": 0, "confirmed": False} for pk in ids}
    today = business_today()
    for i in Identity.objects.filter(resident_id__in=ids).order_by("code"):
        if i.active_on(today):
            out[i.resident_id]["identities"].append(identity_name(i.code))
    for row in Flag.objects.filter(resident_id__in=ids, resolved_at__isnull=True).values("resident_id").annotate(n=Count("id")):
        out[row["resident_id"]]["flags"] = row["n"]
    for pk in Flag.objects.filter(resident_id__in=ids, outcome=Flag.Outcome.CONFIRMED).values_list("resident_id", flat=True):
        out[pk]["confirmed"] = True
    return out


# ---------------------------------------------------------------- flags


def flag_list(*, scope, kind: str | None = None, state: str = "open", region: str | None = None):
    flags = _county_filter(scope, Flag.objects.select_related("resident"), prefix="resident__")
    flags = _region_filter(flags, check_region_param(scope, region), prefix="resident__")
    if kind:
        flags = flags.filter(kind=kind)
    if state == "open":
        flags = flags.filter(resolved_at__isnull=True)
    elif state == "resolved":
        flags = flags.filter(resolved_at__isnull=False)
    return flags.order_by("-created_at", "-id")


def flag_get(*, scope, pk: int) -> Flag:
    flag = flag_list(scope=scope, state="all").filter(pk=pk).first()
    if flag is None:
        raise Http404("标记不存在或不在您的管辖范围内。")
    return flag


# ---------------------------------------------------------------- identity review (就高不就低)


def review_policy(county_code: str):
    """The county's newest policy, or None when the county has none."""
    from yibao.policy.loader import policies_for_region

    policies = policies_for_region(county_code) if county_code else []
    return policies[0] if policies else None


def review_window(policy) -> tuple[dt.date, dt.date]:
    """Identities count when held during the policy's main collection window (today without a policy)."""
    if policy is None:
        today = business_today()
        return today, today
    window = policy.data.collection.main_window
    return window.start, window.end


def _held_during(start: dt.date, end: dt.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=end)) & (Q(valid_to__isnull=True) | Q(valid_to__gte=start))


def identity_review(*, scope, township: str | None = None, policy=None):
    """Residents in the scope holding two or more identities during the collection window."""
    county = scope.county_code
    policy = policy if policy is not None else review_policy(county)
    start, end = review_window(policy)
    township = check_region_param(scope, township)
    held = _county_filter(scope, Identity.objects.all(), prefix="resident__").filter(_held_during(start, end))
    held = _region_filter(held, township, prefix="resident__")
    if scope.role == Role.DEPARTMENT_CLERK and not scope.superuser:
        # a department sees the people on its own lists who also hold other identities
        own = Identity.objects.filter(department__in=department_values(scope.department)).filter(_held_during(start, end))
        held = held.filter(resident_id__in=own.values("resident_id"))
    several = held.values("resident_id").annotate(n=Count("id")).filter(n__gte=2).values("resident_id")
    residents = Resident.objects.filter(pk__in=several, status=Resident.Status.ACTIVE)
    if scope.region_code:
        residents = residents.filter(county_code=county)
    return residents.order_by("township_code", "village_code", "id")


@dataclass
class ReviewRow:
    resident: Resident
    identities: list[IdentityRow]
    applied: str | None  # the identity code the policy applies
    applied_name: str
    subsidy: object  # Decimal or None
    note: str


OTHER_DEPARTMENT = "其他部门认定的身份"


def _own_department_only(scope) -> frozenset[str] | None:
    """The department values a scope is limited to (a department clerk), or None for everyone else."""
    if scope is None or scope.superuser or scope.role != Role.DEPARTMENT_CLERK:
        return None
    return frozenset(department_values(scope.department))


def identity_review_rows(*, residents: list[Resident], policy, scope=None) -> list[ReviewRow]:
    """Every identity of each resident and the single one that applies under the policy (就高不就低).

    A department clerk sees only its own department's identities: another department's (卫健's
    严重精神障碍, ...) are health or welfare facts it has no right to. The rule is still applied to
    all of them; when the one that applies is another department's, the row says only that, without
    its name or amount.
    """
    own = _own_department_only(scope)
    from yibao.policy.engine import Person, PolicyInputError, quote

    start, end = review_window(policy)
    ids = [r.pk for r in residents]
    by_resident: dict[int, list[Identity]] = {pk: [] for pk in ids}
    for identity in Identity.objects.filter(resident_id__in=ids).filter(_held_during(start, end)).order_by("code"):
        by_resident[identity.resident_id].append(identity)
    rows = []
    for resident in residents:
        held = by_resident.get(resident.pk, [])
        applied, subsidy, note = None, None, ""
        codes = frozenset(i.code for i in held if i.code in IDENTITY_BY_CODE)
        if policy is None:
            note = "本县尚未配置缴费政策，无法判断适用身份。"
        else:
            try:
                result = quote(policy, Person(birth_date=resident.birth_date, identities=codes), paid_on=start)
            except PolicyInputError as exc:
                note = f"无法测算：{exc}"
            else:
                applied, subsidy = result.subsidy_identity, result.subsidy if result.subsidy_identity else None
                if not result.accepted:
                    note = result.reason or ""
                elif applied is None:
                    note = "本政策对这些身份均无个人缴费资助。"
        applied_name = identity_name(applied) if applied else ""
        if own is not None:
            if applied and not any(i.code == applied and i.department in own for i in held):
                applied, applied_name, subsidy = None, OTHER_DEPARTMENT, None
                note = "按其他部门认定的身份资助（就高不就低），本部门名单上的身份不再重复资助。"
            held = [i for i in held if i.department in own]
        rows.append(
            ReviewRow(
                resident=resident, identities=identity_rows(held, on=start), applied=applied,
                applied_name=applied_name, subsidy=subsidy, note=note,
            )
        )
    return rows


# ---------------------------------------------------------------- export


EXPORT_COLUMNS = (
    "身份证号码", "姓名", "性别", "出生日期", "乡镇（街道）", "村（社区）", "户号", "与户主关系", "联系电话", "状态",
    "资助身份", "重复参保标记",
)


def residents_export_rows(*, scope, q: str | None = None, region: str | None = None, status: str | None = None):
    """Rows for the resident export (ID numbers as the scope may see them), in batches."""
    from yibao.regions.selectors import region_labels

    residents = resident_search(scope=scope, q=q, region=region, status=status)
    batch = 2000
    last = 0
    base = residents.order_by("id")
    while True:
        chunk = list(base.filter(id__gt=last)[:batch])
        if not chunk:
            return
        last = chunk[-1].pk
        labels = region_labels({r.village_code for r in chunk} | {r.township_code for r in chunk})
        badges = resident_badges(chunk)
        for r in chunk:
            yield [
                scope.show_id(r.id_number), r.name, r.get_sex_display(), r.birth_date.isoformat(),
                labels.get(r.township_code, r.township_code), labels.get(r.village_code, r.village_code).split(" / ")[-1],
                r.household.number if r.household_id and r.household else "", r.relation_to_head, r.phone,
                r.get_status_display(), "、".join(badges[r.pk]["identities"]),
                "待核实" if badges[r.pk]["flags"] else ("已确认重复" if badges[r.pk]["confirmed"] else ""),
            ]

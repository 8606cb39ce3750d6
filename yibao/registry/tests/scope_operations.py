"""Registry operations for the scope matrix (tests/test_scope_matrix.py).

Each target village holds a household whose head holds two identities (低保, 特困) and an open
职工医保 flag, plus a second member.
"""

import datetime as dt
import json

from yibao.accounts.tests.scope_support import ScopeOperation, xlsx_text


def _resident(t):
    from yibao.registry.models import Resident

    return Resident.objects.get(pk=t.resident.pk)


def _member(t):
    from yibao.registry.models import Resident

    return Resident.objects.get(pk=t.member.pk)


def _number_in_event(t):
    """A change of the head's record whose event quotes the whole number (as an ID correction would)."""
    from yibao.core.services import event_record

    event_record(county_code=t.county_code, entity="resident", entity_id=str(t.resident.pk), action="update",
                 before={"id_number": t.resident.id_number}, after={"id_number": t.resident.id_number},
                 reason=f"{t.resident.id_number}号码更正")


def _with_health_identity(t):
    """The head also holds 卫健's 严重精神障碍患者 (besides 民政's 低保 and 特困)."""
    from yibao.registry.models import Identity

    Identity.objects.get_or_create(county_code=t.county_code, resident_id=t.resident.pk, code="mental_severe",
                                   defaults={"department": "weijian"})


def _other_departments(scope, t):
    """A department clerk (民政) reads no other department's identity, e.g. 卫健's."""
    return ["严重精神障碍患者", "mental_severe", "卫健", "weijian"] if scope.role == "department_clerk" else []


def _flag_resolved(world, t):
    from yibao.registry.models import Flag

    return Flag.objects.get(pk=t.flag.pk).resolved_at is not None


def _registered(world, t):
    from yibao.registry.models import Resident

    return Resident.objects.filter(id_number=t.new_id).exists()


def _move_allowed(scope, world, t):
    return scope.contains(t.village_code) and scope.contains(t.neighbour_code)


def _own_change(client, t):
    """A status change of the target resident made by the user the client is logged in as (nothing changed)."""
    from yibao.accounts.models import User
    from yibao.registry.models import StatusChange
    from yibao.registry.undo import _snapshot

    user = User.objects.get(pk=client.session["_auth_user_id"])
    state = _snapshot(t.resident.pk)
    return StatusChange.objects.create(
        county_code=t.village_code[:6], village_code=t.village_code, resident_id=t.resident.pk, kind="remind_mark",
        capability="remind.mark", title=f"{t.resident.name} 已标记为已联系", before=state, after=state, actor=user,
        actor_name=user.get_username(),
    )


def _undone(world, t):
    from yibao.registry.models import StatusChange

    return StatusChange.objects.filter(resident_id=t.resident.pk, undone_at__isnull=False).exists()


def _json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


OPERATIONS = [
    # ------------------------------------------------------------ pages: reads
    ScopeOperation(
        name="registry.page.residents",
        capability="registry.view",
        call=lambda client, world, t: client.get("/registry/residents/"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="registry.page.residents_search_id",
        capability="registry.view",
        call=lambda client, world, t: client.get("/registry/residents/", {"q": t.resident.id_number}),
        on_foreign="filter",
        leaks=lambda t: [t.resident.name, t.member.name],  # the page repeats the number that was searched for
    ),
    ScopeOperation(
        name="registry.page.residents_search_name",
        capability="registry.view",
        call=lambda client, world, t: client.get("/registry/residents/", {"q": t.member.name}),
        on_foreign="filter",
        shows=lambda t: t.member.id_number[-4:],
        leaks=lambda t: [t.member.id_number, t.resident.name],
    ),
    ScopeOperation(
        name="registry.page.residents_in_region",
        capability="registry.view",
        call=lambda client, world, t: client.get("/registry/residents/", {"region": t.village_code}),
    ),
    ScopeOperation(
        name="registry.page.resident",
        capability="registry.view",
        call=lambda client, world, t: client.get(f"/registry/residents/{t.resident.pk}/"),
    ),
    ScopeOperation(
        name="registry.page.resident_events",
        capability="registry.view",
        call=lambda client, world, t: (_number_in_event(t), client.get(f"/registry/residents/{t.resident.pk}/"))[1],
        shows=lambda t: f"{t.resident.id_number[-4:]}号码更正",  # the event's reason, masked or whole
    ),
    ScopeOperation(
        name="registry.page.household",
        capability="registry.view",
        call=lambda client, world, t: client.get(f"/registry/households/{t.household.pk}/"),
    ),
    ScopeOperation(
        name="registry.page.identity_review",
        capability="identities.view",
        call=lambda client, world, t: client.get("/registry/review/"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="registry.page.identity_review_township",
        capability="identities.view",
        call=lambda client, world, t: client.get("/registry/review/", {"township": t.township_code}),
        region=lambda t: t.township_code,
    ),
    ScopeOperation(
        name="registry.page.identity_review_departments",
        capability="identities.view",
        call=lambda client, world, t: (_with_health_identity(t), client.get("/registry/review/"))[1],
        on_foreign="filter",
        hidden=_other_departments,
    ),
    ScopeOperation(
        name="registry.page.flags",
        capability="registry.resolve_flags",
        call=lambda client, world, t: client.get("/registry/flags/"),
        on_foreign="filter",
    ),
    # ------------------------------------------------------------ exports
    ScopeOperation(
        name="registry.export.residents",
        capability="registry.export",
        kind="export",
        call=lambda client, world, t: client.get("/registry/residents/export.xlsx"),
        on_foreign="filter",
        read=xlsx_text,
    ),
    ScopeOperation(
        name="registry.export.residents_in_region",
        capability="registry.export",
        kind="export",
        call=lambda client, world, t: client.get("/registry/residents/export.xlsx", {"region": t.village_code}),
        read=xlsx_text,
    ),
    # ------------------------------------------------------------ pages: writes
    ScopeOperation(
        name="registry.page.resident_edit",
        capability="registry.edit",
        call=lambda client, world, t: client.post(
            f"/registry/residents/{t.resident.pk}/edit/",
            {"name": t.resident.name, "phone": "13900001111", "residence_region_code": t.village_code,
             "status": "active", "reason": ""},
        ),
        shows=lambda t: None,
        effect=lambda world, t: _resident(t).phone == "13900001111",
    ),
    ScopeOperation(
        name="registry.page.resident_move_form",
        capability="registry.edit",
        call=lambda client, world, t: client.get(f"/registry/residents/{t.member.pk}/move/"),
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="registry.page.resident_move",
        capability="registry.edit",
        call=lambda client, world, t: client.post(
            f"/registry/residents/{t.member.pk}/move/",
            {"to_village_code": t.neighbour_code, "household_number": "", "relation": "", "reason": "婚迁"},
        ),
        shows=lambda t: None,
        leaks=lambda t: [],  # a refused destination answers with the form; a foreign source is 404 (move_form)
        allowed=_move_allowed,
        deny_status=(200, 403, 404),  # a destination outside the scope is not among the choices
        effect=lambda world, t: _member(t).village_code == t.neighbour_code,
    ),
    ScopeOperation(
        name="registry.page.identity_add",
        capability="identities.import",
        call=lambda client, world, t: client.post(
            f"/registry/residents/{t.resident.pk}/identities/",
            {"code": "low_income_family", "department": "minzheng", "valid_from": "2023-01-01", "valid_to": "",
             "source_name": "矩阵"},
        ),
        shows=lambda t: None,
        effect=lambda world, t: _resident(t).identities.filter(code="low_income_family").exists(),
    ),
    ScopeOperation(
        name="registry.page.identity_end",
        capability="identities.import",
        call=lambda client, world, t: client.post(
            f"/registry/identities/{t.identity.pk}/end/", {"valid_to": "2023-06-30", "reason": "退出低保"}
        ),
        shows=lambda t: None,
        effect=lambda world, t: _resident(t).identities.get(pk=t.identity.pk).valid_to == dt.date(2023, 6, 30),
    ),
    ScopeOperation(
        name="registry.page.group_fact_add",
        capability="registry.edit",
        call=lambda client, world, t: client.post(
            f"/registry/residents/{t.member.pk}/groups/", {"group": "migrant_worker", "event_date": "", "note": ""}
        ),
        shows=lambda t: None,
        effect=lambda world, t: _member(t).group_facts.filter(group="migrant_worker").exists(),
    ),
    ScopeOperation(
        name="registry.page.household_member_add",
        capability="registry.edit",
        call=lambda client, world, t: client.post(
            f"/registry/households/{t.household.pk}/members/",
            {"name": "新生儿", "id_number": t.new_id, "relation": "孙子" if int(t.new_id[16]) % 2 else "孙女",
             "phone": "", "reason": "新生儿"},
        ),
        shows=lambda t: None,
        effect=_registered,
    ),
    ScopeOperation(
        name="registry.page.household_register",
        capability="registry.edit",
        call=lambda client, world, t: client.post(
            "/registry/households/new/",
            {"village_code": t.village_code, "number": "", "address": "",
             "m-TOTAL_FORMS": "1", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "0", "m-MAX_NUM_FORMS": "20",
             "m-0-name": "新户主", "m-0-id_number": t.new_id, "m-0-relation": "户主", "m-0-phone": ""},
        ),
        shows=lambda t: None,
        leaks=lambda t: [],
        deny_status=(200, 403),  # a village outside the scope is not among the choices
        effect=_registered,
    ),
    ScopeOperation(
        name="registry.page.flag_resolve",
        capability="registry.resolve_flags",
        call=lambda client, world, t: client.post(
            f"/registry/flags/{t.flag.pk}/resolve/", {"outcome": "cleared", "resolution": "已核实职工医保已停保"}
        ),
        shows=lambda t: None,
        effect=_flag_resolved,
    ),
    # ------------------------------------------------------------ API
    ScopeOperation(
        name="registry.api.residents",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/residents"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="registry.api.residents_search_id",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/residents", {"q": t.resident.id_number}),
        on_foreign="filter",
        leaks=lambda t: [t.resident.name],
    ),
    ScopeOperation(
        name="registry.api.residents_in_region",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/residents", {"region": t.village_code}),
    ),
    ScopeOperation(
        name="registry.api.resident",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/residents/{t.resident.pk}"),
    ),
    ScopeOperation(
        name="registry.api.household",
        capability="registry.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/households/{t.household.pk}"),
    ),
    ScopeOperation(
        name="registry.api.household_register",
        capability="registry.edit",
        kind="api",
        call=lambda client, world, t: _json(client, "/api/households", {
            "village_code": t.village_code,
            "members": [{"name": "接口户主", "id_number": t.new_id, "relation": "户主"}],
        }),
        shows=lambda t: "接口户主",
        leaks=lambda t: [],
        effect=_registered,
    ),
    ScopeOperation(
        name="registry.api.identity_review",
        capability="identities.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/identity-review"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="registry.api.identity_review_township",
        capability="identities.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/identity-review", {"township": t.township_code}),
        region=lambda t: t.township_code,
    ),
    ScopeOperation(
        name="registry.api.identity_review_departments",
        capability="identities.view",
        kind="api",
        call=lambda client, world, t: (_with_health_identity(t), client.get("/api/identity-review"))[1],
        on_foreign="filter",
        hidden=_other_departments,
    ),
    ScopeOperation(
        name="registry.api.flags",
        capability="registry.resolve_flags",
        kind="api",
        call=lambda client, world, t: client.get("/api/flags"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="registry.api.flag_resolve",
        capability="registry.resolve_flags",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/flags/{t.flag.pk}/resolve",
                                            {"outcome": "confirmed", "resolution": "确认在职工医保参保"}),
        effect=_flag_resolved,
    ),
    ScopeOperation(
        name="registry.page.status_undo",
        capability="remind.mark",
        call=lambda client, world, t: client.post(f"/registry/changes/{_own_change(client, t).pk}/undo/"),
        shows=lambda t: None,
        effect=_undone,
    ),
    ScopeOperation(
        name="registry.api.status_change",
        capability="remind.mark",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/status-changes/{_own_change(client, t).pk}"),
    ),
    ScopeOperation(
        name="registry.api.status_undo",
        capability="remind.mark",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/status-changes/{_own_change(client, t).pk}/undo", {}),
        effect=_undone,
    ),
]

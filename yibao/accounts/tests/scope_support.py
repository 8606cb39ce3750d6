"""The role × operation scope matrix: the world it runs in, and how an app declares its operations.

Each app lists its operations in yibao/<app>/tests/scope_operations.py as `OPERATIONS`, a list of
ScopeOperation. tests/test_scope_matrix.py collects every such file and runs each operation as
every role against four target villages:

    own_village      421223200201 白马 (the village collector's own village)
    sibling_village  421223200202 锁石 (same township, another village)
    other_township   421223100201 城东 (same county, another township)
    other_county     421321100201 神农 (随县)

All staff users live in 崇阳县 (421223): county_admin, tax_officer, department_clerk (民政) and
auditor at the county, township_officer at 肖岭乡, village_collector at 白马; above them city_admin
and city_tax at 咸宁市 (4212, which holds 崇阳县 but not 随县) and province_viewer at 湖北省 (42).

An operation's `call(client, world, target)` makes the request as the logged-in user and may
create what it needs first; every case is rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from yibao.accounts.roles import Role
from yibao.core.idnumber import mask_id_number

TARGETS = ("own_village", "sibling_village", "other_township", "other_county")
OK = (200, 201, 202, 204, 302)


@dataclass
class Target:
    key: str
    village_code: str
    village_name: str
    neighbour_code: str  # another village of the same township (destination of moves)
    resident: object = None  # the head of the target household: holds two identities and an open flag
    member: object = None  # a second member (not head)
    household: object = None
    identity: object = None
    flag: object = None
    user: object = None  # a village collector bound to this village (target of account operations)
    new_id: str = ""  # a valid ID number not yet registered, for registrations in this village

    @property
    def township_code(self) -> str:
        return self.village_code[:9]

    @property
    def county_code(self) -> str:
        return self.village_code[:6]

    def secrets(self) -> list[str]:
        """Texts that must never appear in an answer to a user outside this village."""
        texts = []
        for person in (self.resident, self.member):
            if person is not None:
                texts += [person.name, person.id_number, mask_id_number(person.id_number)]
        return texts


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)  # role → User
    targets: dict[str, Target] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)  # for operations of other apps

    def id_numbers_hidden_from(self, scope) -> list[str]:
        """Whole ID numbers a scope must never read: those of people outside its region, and, for a
        role that sees masked numbers only (审计, 部门), everyone's."""
        numbers = []
        for target in self.targets.values():
            if scope.full_id and scope.contains(target.village_code):
                continue
            numbers += [p.id_number for p in (target.resident, target.member) if p is not None]
        return numbers


@dataclass(frozen=True)
class ScopeOperation:
    """One thing a user can do: a page, an API operation or an export.

    on_foreign says what happens to a target outside the user's region:
      "deny"   — the answer is 403/404 and holds none of the target's data;
      "filter" — the answer is a normal list that leaves the target out;
      "none"   — the operation is not bound to a region.
    """

    name: str
    capability: str | None
    call: Callable
    kind: str = "page"  # page | api | export
    on_foreign: str = "deny"
    region: Callable | None = None  # the region the operation touches (default: the target village)
    shows: Callable | None = None  # text an allowed answer must contain (default: the target's resident name)
    leaks: Callable | None = None  # texts a refused/filtered answer must not contain (default: target.secrets())
    effect: Callable | None = None  # for writes: (world, target) → whether the change happened
    allowed: Callable | None = None  # override: (scope, world, target) → whether it should be allowed
    deny_status: tuple = (403, 404)
    read: Callable | None = None  # response → text (default: the decoded body)
    hidden: Callable | None = None  # (scope, target) → texts no answer to this scope may hold, allowed or not

    def region_of(self, target: Target) -> str:
        return self.region(target) if self.region else target.village_code

    def shown_text(self, target: Target) -> str | None:
        if self.shows is not None:
            return self.shows(target)
        return target.resident.name if target.resident is not None else None

    def leak_texts(self, target: Target) -> list[str]:
        return list(self.leaks(target)) if self.leaks else target.secrets()

    def text(self, response) -> str:
        if self.read is not None:
            return self.read(response)
        content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        text = content.decode("utf-8", "replace")
        if "json" in response.get("Content-Type", ""):
            try:  # read Chinese as Chinese, not \uXXXX escapes
                return json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                return text
        return text

    def expected(self, scope, world: World, target: Target) -> bool:
        if self.capability and not scope.can(self.capability):
            return False
        if self.allowed is not None:
            return bool(self.allowed(scope, world, target))
        if self.on_foreign == "none":
            return True
        return scope.contains(self.region_of(target))


def xlsx_text(response) -> str:
    """Every cell of an xlsx answer, as text (for exports)."""
    import io

    from python_calamine import CalamineWorkbook

    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if response.status_code != 200 or not content.startswith(b"PK"):
        return content.decode("utf-8", "replace")
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    cells = []
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            cells.extend(str(c) for c in row)
    return "\n".join(cells)


def collect_operations() -> list[ScopeOperation]:
    """Every app's yibao/<app>/tests/scope_operations.py OPERATIONS, in app order."""
    root = Path(__file__).resolve().parents[2]
    operations = []
    for path in sorted(root.glob("*/tests/scope_operations.py")):
        module = importlib.import_module(f"yibao.{path.parent.parent.name}.tests.scope_operations")
        operations.extend(module.OPERATIONS)
    names = [op.name for op in operations]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"duplicate operation names: {sorted(duplicates)}"
    return operations


# ---------------------------------------------------------------- the world


VILLAGES = {
    "own_village": ("421223200201", "白马", "421223200203", "赵白马", "赵小马"),
    "sibling_village": ("421223200202", "锁石", "421223200203", "钱锁石", "钱小石"),
    "other_township": ("421223100201", "城东", "421223100202", "孙城东", "孙小东"),
    "other_county": ("421321100201", "神农", "421321100202", "李神农", "李小农"),
}


def build_world() -> World:
    from yibao.accounts.models import User
    from yibao.registry.models import Flag
    from yibao.registry.tests.factories import add_region, give_identity, make_household, make_id, seed_regions

    seed_regions()
    add_region("421223100", "天城镇")
    add_region("421223100201", "城东")
    add_region("421223100202", "城西")
    add_region("421321100201", "神农")
    add_region("421321100202", "炎帝")

    world = World()
    homes = {
        Role.COUNTY_ADMIN: "421223", Role.TAX_OFFICER: "421223", Role.TOWNSHIP_OFFICER: "421223200",
        Role.VILLAGE_COLLECTOR: "421223200201", Role.DEPARTMENT_CLERK: "421223", Role.AUDITOR: "421223",
        Role.CITY_ADMIN: "4212", Role.CITY_TAX: "4212", Role.PROVINCE_VIEWER: "42",  # 咸宁市 holds 崇阳县, not 随县
    }
    for role, region in homes.items():
        world.users[str(role)] = User.objects.create_user(
            username=f"m_{role}", password="pass-1234", role=role, region_code=region,
            department="minzheng" if role == Role.DEPARTMENT_CLERK else "", display_name=f"矩阵{Role(role).label}",
        )
    for n, (key, (code, vname, neighbour, head, member)) in enumerate(VILLAGES.items(), start=1):
        household, people = make_household(code, f"M{code}", head, member, birth=dt.date(1970 + n, 2, 3))
        resident = people[0]
        identity = give_identity(resident, "dibao")
        give_identity(resident, "tekun")
        flag = Flag.objects.create(county_code=resident.county_code, resident=resident, kind=Flag.Kind.EMPLOYEE_INSURANCE,
                                   detail=f"职工医保名单 {n}")
        user = User.objects.create_user(
            username=f"t_{key}", password="pass-1234", role=Role.VILLAGE_COLLECTOR, region_code=code,
            display_name=f"目标{vname}",
        )
        world.targets[key] = Target(
            key=key, village_code=code, village_name=vname, neighbour_code=neighbour, resident=resident,
            member=people[1], household=household, identity=identity, flag=flag, user=user,
            new_id=make_id(code[:6], dt.date(2023, 1, n), seq=f"90{n}", sex="F" if n % 2 == 0 else "M"),
        )
    return world

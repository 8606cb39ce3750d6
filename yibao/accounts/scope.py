"""A user's reach: which region they see, what they may do, whether they see whole ID numbers.

Every selector, API operation, page and export takes a Scope. Tables that hold people or money
carry county_code, township_code and village_code, so a scope is an equality filter (below the county:
the county code as well, so every read names the shard key).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from yibao.accounts.roles import CAPABILITIES, FULL_ID_ROLES, READ_ONLY_ROLES, ROLE_CAPABILITIES
from yibao.core.idnumber import mask_id_number

LEVEL_FIELD = {6: "county_code", 9: "township_code", 12: "village_code"}


@dataclass(frozen=True)
class Scope:
    role: str
    region_code: str  # "" only for a superuser: every county
    department: str = ""
    username: str = ""
    user_id: int | None = None
    superuser: bool = False

    @property
    def county_code(self) -> str:
        """The county this scope works in; "" for a city or province scope (it spans many counties)."""
        return self.region_code[:6] if len(self.region_code) >= 6 else ""

    @property
    def level(self) -> int | None:
        return len(self.region_code) if self.region_code else None

    @property
    def above_county(self) -> bool:
        """A city (4 digits) or province (2) scope: it reads roll-ups across its counties."""
        return bool(self.region_code) and len(self.region_code) < 6

    @property
    def capabilities(self) -> frozenset[str]:
        if self.superuser:
            return frozenset(CAPABILITIES)
        return ROLE_CAPABILITIES.get(self.role, frozenset())

    @property
    def full_id(self) -> bool:
        return self.superuser or self.role in FULL_ID_ROLES

    @property
    def read_only(self) -> bool:
        return self.role in READ_ONLY_ROLES and not self.superuser

    def can(self, capability: str) -> bool:
        if capability not in CAPABILITIES:
            raise KeyError(f"unknown capability {capability}")
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        if not self.can(capability):
            raise PermissionDenied(f"当前账号无权{CAPABILITIES[capability]}。")

    def contains(self, region_code: str) -> bool:
        """Whether a county, township or village code lies inside this scope."""
        if not self.region_code:
            return True
        return (region_code or "").startswith(self.region_code)

    def covers_county(self, county_code: str) -> bool:
        """Whether this scope works in the county `county_code`: its own county (that of its township or
        village), or, above the county, any county under its code."""
        if not self.region_code:
            return True
        county_code = county_code or ""
        if self.above_county:
            return len(county_code) == 6 and county_code.startswith(self.region_code)
        return county_code == self.county_code

    def filter_counties(self, queryset, prefix: str = ""):
        """Limit a queryset to the whole counties of this scope (a township account reads its county's rows)."""
        if not self.region_code:
            return queryset
        if self.above_county:
            return queryset.filter(**{prefix + "county_code__startswith": self.region_code})
        return queryset.filter(**{prefix + "county_code": self.county_code})

    def require_region(self, region_code: str) -> None:
        if not self.contains(region_code):
            raise PermissionDenied(f"区划 {region_code} 不在当前账号的管辖范围内。")

    def filter(self, queryset, prefix: str = ""):
        """Limit a queryset to this scope; `prefix` reaches the codes through a relation ('resident__')."""
        if not self.region_code:
            return queryset
        if self.above_county:  # every county of a city or province: a prefix of the county code
            return queryset.filter(**{prefix + "county_code__startswith": self.region_code})
        field = LEVEL_FIELD[len(self.region_code)]
        # the county code too, for a township or village: every read names the shard key (docs/scale.md)
        return queryset.filter(**{prefix + "county_code": self.region_code[:6], prefix + field: self.region_code})

    def county_codes(self, codes) -> list[str]:
        """The county codes among `codes` that lie in this scope."""
        return sorted(c for c in codes if self.contains(c))

    @property
    def reads_county_files(self) -> bool:
        """Whether this scope may download a file that quotes a whole county's rows as given (an import's
        or a channel file's error report): whole ID numbers of every village, so county level and full_id."""
        if self.superuser and not self.region_code:
            return True
        return self.level == 6 and self.full_id

    def show_id(self, number: str, region_code: str | None = None) -> str:
        """The whole number only where role and region both allow it: a role that sees whole numbers,
        and (when the person's region is given) a person inside this scope; otherwise masked."""
        if not self.full_id or (region_code is not None and not self.contains(region_code)):
            return mask_id_number(number)
        return number


def scope_for(user) -> Scope:
    if user is None or not user.is_authenticated:
        raise PermissionDenied("请先登录。")
    return Scope(
        role=user.role,
        region_code="" if user.is_superuser and not user.region_code else user.region_code,
        department=user.department,
        username=user.get_username(),
        user_id=user.pk,
        superuser=user.is_superuser,
    )


def actor_scope(actor) -> Scope | None:
    """The scope a service checks for its actor: a User's scope, or None for the command line (unrestricted)."""
    if actor is None or isinstance(actor, str):
        return None
    return scope_for(actor)

"""What the progress writes share: the actor's scope and a target's fields for events."""

from __future__ import annotations



from yibao.accounts.scope import actor_scope
from yibao.progress.models import Target

TARGET_FIELDS = ("total", "special", "others", "population", "supplementary")
LEVEL_NAMES = {6: "县（区）", 9: "乡镇", 12: "村（社区）"}


def _scope(actor, capability: str):
    scope = actor_scope(actor)
    if scope is not None:
        scope.require(capability)
    return scope


def _snapshot(target: Target | None) -> dict | None:
    if target is None:
        return None
    return {k: getattr(target, k) for k in TARGET_FIELDS} | {"source": target.source}

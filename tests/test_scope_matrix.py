"""Every role against every operation (pages, API, exports) and four target villages.

Operations come from each app's yibao/<app>/tests/scope_operations.py (see
yibao/accounts/tests/scope_support.py). For each case the test asserts:
  - without the capability: 403;
  - inside the user's region: a normal answer showing the target's data, and the write happened;
  - outside it: 403/404 (or, for lists, the target left out), none of the target's names or ID
    numbers anywhere in the answer, and no write.
The world is built once per module; every case runs in its own savepoint and is rolled back.
"""

import pytest

from yibao.accounts.roles import Role
from yibao.accounts.scope import scope_for
from yibao.accounts.tests.scope_support import OK, TARGETS, collect_operations

OPERATIONS = collect_operations()


def _raw(response) -> bytes:
    if getattr(response, "streaming", False):
        return b""  # already read by op.text (its cells are searched there)
    return response.content


def _sent(response) -> str:
    """What the request itself carried: a page may repeat the number the user typed into the search box."""
    request = getattr(response, "wsgi_request", None)
    if request is None:
        return ""
    parts = [request.get_full_path()]
    for data in (request.GET, request.POST):
        parts += [v for values in data.lists() for v in values[1]]
    from django.http.request import RawPostDataException

    try:
        parts.append(request.body.decode("utf-8", "replace"))
    except RawPostDataException:  # body already read as a stream (multipart)
        pass
    return "\n".join(parts)
ROLES = [str(r) for r in Role]


def test_every_app_declares_operations():
    names = {op.name.split(".")[0] for op in OPERATIONS}
    assert {"regions", "accounts", "registry"} <= names
    kinds = {op.kind for op in OPERATIONS}
    assert {"page", "api", "export"} <= kinds


@pytest.mark.parametrize("target_key", TARGETS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("op", OPERATIONS, ids=[op.name for op in OPERATIONS])
def test_scope(world, db, client, op, role, target_key):
    user = world.users[role]
    target = world.targets[target_key]
    scope = scope_for(user)
    client.force_login(user)
    may = op.capability is None or scope.can(op.capability)
    allowed = op.expected(scope, world, target)

    response = op.call(client, world, target)
    body = op.text(response)
    where = f"{op.name} as {role} on {target_key}: HTTP {response.status_code}"

    if not may:
        assert response.status_code == 403, where
    elif allowed:
        assert response.status_code in OK, f"{where}\n{body[:800]}"
        shown = op.shown_text(target)
        if shown and response.status_code != 302:
            assert shown in body, f"{where}: answer lacks {shown!r}"
    elif op.on_foreign == "filter":
        assert response.status_code in OK, where
    else:
        assert response.status_code in op.deny_status, f"{where}\n{body[:800]}"

    if not allowed:
        leaked = [text for text in op.leak_texts(target) if text and text in body]
        assert not leaked, f"{where}: leaked {leaked}"
    if op.hidden is not None:
        shown_anyway = [text for text in op.hidden(scope, target) if text and text in body]
        assert not shown_anyway, f"{where}: shows {shown_anyway}"
    # whatever the operation and target: no whole ID number of a person outside the user's region
    # (nor any whole number for a role that reads masked ones), neither in the raw bytes nor in the
    # cells of an xlsx answer
    raw, typed = _raw(response), _sent(response)
    whole = [n for n in world.id_numbers_hidden_from(scope) if (n in body or n.encode() in raw) and n not in typed]
    assert not whole, f"{where}: whole ID numbers outside the user's reach {whole}\n{body[:800]}"
    if op.effect is not None:
        assert op.effect(world, target) == allowed, f"{where}: write {'missing' if allowed else 'happened'}"

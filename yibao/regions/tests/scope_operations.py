"""Region operations for the scope matrix (tests/test_scope_matrix.py)."""

from yibao.accounts.tests.scope_support import ScopeOperation

OPERATIONS = [
    ScopeOperation(
        name="regions.page.tree",
        capability="regions.view",
        call=lambda client, world, t: client.get("/regions/"),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="regions.page.node",
        capability="regions.view",
        call=lambda client, world, t: client.get(f"/regions/{t.village_code}/"),
        shows=lambda t: t.village_name,
        leaks=lambda t: [],  # region names are public; the status is what matters
    ),
    ScopeOperation(
        name="regions.page.township",
        capability="regions.view",
        call=lambda client, world, t: client.get(f"/regions/{t.township_code}/"),
        region=lambda t: t.township_code,
        shows=lambda t: t.village_name,  # the township page lists its villages
        leaks=lambda t: [],
    ),
    ScopeOperation(
        name="regions.api.list",
        capability="regions.view",
        kind="api",
        call=lambda client, world, t: client.get("/api/regions?level=12"),
        on_foreign="filter",
        shows=lambda t: t.village_code,
        leaks=lambda t: [t.village_code],
    ),
    ScopeOperation(
        name="regions.api.detail",
        capability="regions.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/regions/{t.village_code}"),
        shows=lambda t: t.village_name,
        leaks=lambda t: [t.village_name],
    ),
]

"""Enrollment operations for the scope matrix (tests/test_scope_matrix.py).

Campaigns belong to a county: every staff user of 崇阳县 sees its campaign (湖北肖岭乡 2024 policy),
none sees 随县's. Assessments and enrollments belong to a village, as residents do. Each call
creates the campaign (and assessment or enrollment) it needs; the case is rolled back after.
The target household's head holds an open flag, so the member is the one who registers.
"""

import json

from yibao.accounts.tests.scope_support import ScopeOperation


def _policy(county: str):
    from yibao.policy.loader import policies_for_region

    return policies_for_region(county)[0]


def _policy_id(t) -> str:
    return _policy(t.county_code).id


def _policy_title(t) -> str:
    """What the campaigns table shows of a policy (its title, not its id)."""
    return _policy(t.county_code).data.title


def _campaign(county: str):
    from yibao.enrollment.models import Campaign

    policy = _policy(county)
    window = policy.data.collection.main_window
    campaign, _ = Campaign.objects.get_or_create(
        county_code=county, benefit_year=policy.data.benefit_year,
        defaults={"policy_id": policy.id, "policy_version": policy.version, "collection_start": window.start,
                  "collection_end": window.end},
    )
    return campaign


def _assessed(county: str):
    from yibao.enrollment.services import assessment_run

    campaign = _campaign(county)
    assessment_run(campaign=campaign, actor="矩阵", on=campaign.collection_start)
    return campaign


def _home_assessed(t):
    """The home county's assessed campaign; the target's own county is assessed too."""
    _assessed(t.county_code)
    return _assessed("421223")


def _enrolled(t):
    from yibao.enrollment.services import enrollment_register
    from yibao.registry.models import Resident

    return enrollment_register(resident=Resident.objects.get(pk=t.member.pk), campaign=_campaign(t.county_code),
                               actor="矩阵")


def _enrollment(t):
    from yibao.enrollment.models import Enrollment

    return Enrollment.objects.filter(resident_id=t.member.pk).first()


def _same_county(scope, world, t) -> bool:
    return not scope.region_code or scope.county_code == t.county_code


def _opens_in(scope, world, t) -> bool:
    """Opening a county's year: its county, or a city or province holding the county (issue 14)."""
    return scope.covers_county(t.county_code)


def _both_villages(scope, world, t) -> bool:
    return scope.contains(t.village_code) and scope.contains(t.neighbour_code)


def _campaign_opened(world, t) -> bool:
    from yibao.enrollment.models import Campaign

    return Campaign.objects.filter(county_code=t.county_code).exists()


def _assessed_target(world, t) -> bool:
    from yibao.enrollment.models import Assessment

    return Assessment.objects.filter(resident_id=t.resident.pk).exists()


def _status(status):
    return lambda world, t: (_enrollment(t) is not None and _enrollment(t).status == status)


def _json(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


def _secrets_and_policy(t):
    return [*t.secrets(), _policy_id(t)]


OPERATIONS = [
    # ------------------------------------------------------------ pages: campaigns
    ScopeOperation(
        name="enrollment.page.campaigns",
        capability="enrollment.view",
        call=lambda client, world, t: (_campaign(t.county_code), client.get("/enrollment/"))[1],
        on_foreign="filter",
        allowed=_same_county,
        shows=_policy_title,
        leaks=lambda t: [_policy_title(t)],
    ),
    ScopeOperation(
        name="enrollment.page.campaign",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(f"/enrollment/campaigns/{_assessed(t.county_code).pk}/"),
        allowed=_same_county,
        shows=_policy_id,
        leaks=_secrets_and_policy,
    ),
    ScopeOperation(
        name="enrollment.page.campaign_village_totals",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(f"/enrollment/campaigns/{_assessed(t.county_code).pk}/",
                                                 {"region": t.village_code}),
        shows=lambda t: t.village_name,
        leaks=lambda t: [*t.secrets(), t.village_name],
    ),
    ScopeOperation(
        name="enrollment.page.campaign_open",
        capability="campaign.manage",
        call=lambda client, world, t: client.post(
            "/enrollment/campaigns/open/", {"county_code": t.county_code, "policy_id": _policy_id(t)}),
        allowed=_opens_in,
        shows=lambda t: None,
        leaks=lambda t: [],
        deny_status=(200, 403),  # a county outside the admin's is not among the choices
        effect=_campaign_opened,
    ),
    ScopeOperation(
        name="enrollment.page.campaign_assess",
        capability="campaign.manage",
        call=lambda client, world, t: client.post(f"/enrollment/campaigns/{_campaign(t.county_code).pk}/assess/"),
        allowed=_same_county,
        shows=lambda t: None,
        effect=_assessed_target,
    ),
    # ------------------------------------------------------------ pages: assessments
    ScopeOperation(
        name="enrollment.page.assessments",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(f"/enrollment/campaigns/{_home_assessed(t).pk}/assessments/"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="enrollment.page.assessments_in_village",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(f"/enrollment/campaigns/{_assessed(t.county_code).pk}/assessments/",
                                                 {"village": t.village_code}),
    ),
    ScopeOperation(
        name="enrollment.page.assessment",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(
            f"/enrollment/campaigns/{_assessed(t.county_code).pk}/residents/{t.member.pk}/"),
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.page.assessment_refresh",
        capability="enrollment.edit",
        call=lambda client, world, t: client.post(
            f"/enrollment/campaigns/{_assessed(t.county_code).pk}/residents/{t.member.pk}/refresh/"),
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="enrollment.page.register",
        capability="enrollment.edit",
        call=lambda client, world, t: client.post(
            f"/enrollment/campaigns/{_campaign(t.county_code).pk}/residents/{t.member.pk}/register/"),
        shows=lambda t: None,
        effect=lambda world, t: _enrollment(t) is not None,
    ),
    # ------------------------------------------------------------ pages: enrollments
    ScopeOperation(
        name="enrollment.page.enrollments",
        capability="enrollment.view",
        call=lambda client, world, t: (_enrolled(t), client.get("/enrollment/enrollments/"))[1],
        on_foreign="filter",
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.page.enrollment",
        capability="enrollment.view",
        call=lambda client, world, t: client.get(f"/enrollment/enrollments/{_enrolled(t).pk}/"),
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.page.suspend",
        capability="enrollment.edit",
        call=lambda client, world, t: client.post(f"/enrollment/enrollments/{_enrolled(t).pk}/suspend/",
                                                  {"suspend-reason": "矩阵", "confirmed": "1"}),
        shows=lambda t: None,
        effect=_status("suspended"),
    ),
    ScopeOperation(
        name="enrollment.page.terminate",
        capability="enrollment.edit",
        call=lambda client, world, t: client.post(f"/enrollment/enrollments/{_enrolled(t).pk}/terminate/",
                                                  {"terminate-cause": "moved_away", "terminate-reason": "矩阵",
                                                   "confirmed": "1"}),
        shows=lambda t: None,
        effect=_status("terminated"),
    ),
    ScopeOperation(
        name="enrollment.page.transfer",
        capability="enrollment.edit",
        call=lambda client, world, t: client.post(
            f"/enrollment/enrollments/{_enrolled(t).pk}/transfer/",
            {"transfer-to_village_code": t.neighbour_code, "transfer-reason": "婚迁", "confirmed": "1"}),
        shows=lambda t: None,
        leaks=lambda t: [],
        allowed=_both_villages,
        deny_status=(302, 403, 404),  # a destination outside the scope is not among the choices: back with a message
        effect=lambda world, t: _enrollment(t) is not None and _enrollment(t).village_code == t.neighbour_code,
    ),
    # ------------------------------------------------------------ API
    ScopeOperation(
        name="enrollment.api.campaigns",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: (_campaign(t.county_code), client.get("/api/campaigns"))[1],
        on_foreign="filter",
        allowed=_same_county,
        shows=_policy_id,
        leaks=lambda t: [_policy_id(t)],
    ),
    ScopeOperation(
        name="enrollment.api.campaign",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/campaigns/{_assessed(t.county_code).pk}"),
        allowed=_same_county,
        shows=_policy_id,
        leaks=_secrets_and_policy,
    ),
    ScopeOperation(
        name="enrollment.api.campaign_open",
        capability="campaign.manage",
        kind="api",
        call=lambda client, world, t: _json(client, "/api/campaigns",
                                            {"county_code": t.county_code, "policy_id": _policy_id(t)}),
        allowed=_opens_in,
        shows=_policy_id,
        leaks=lambda t: [],
        effect=_campaign_opened,
    ),
    ScopeOperation(
        name="enrollment.api.campaign_assess",
        capability="campaign.manage",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/campaigns/{_campaign(t.county_code).pk}/assess", {}),
        allowed=_same_county,
        shows=lambda t: None,
        effect=_assessed_target,
    ),
    ScopeOperation(
        name="enrollment.api.assessments",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/campaigns/{_home_assessed(t).pk}/assessments"),
        on_foreign="filter",
    ),
    ScopeOperation(
        name="enrollment.api.assessments_in_village",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/campaigns/{_assessed(t.county_code).pk}/assessments",
                                                 {"village": t.village_code}),
    ),
    ScopeOperation(
        name="enrollment.api.assessment",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: client.get(
            f"/api/campaigns/{_assessed(t.county_code).pk}/assessments/{t.member.pk}"),
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.api.enrollments",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: (_enrolled(t), client.get("/api/enrollments"))[1],
        on_foreign="filter",
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.api.enrollment",
        capability="enrollment.view",
        kind="api",
        call=lambda client, world, t: client.get(f"/api/enrollments/{_enrolled(t).pk}"),
        shows=lambda t: t.member.name,
    ),
    ScopeOperation(
        name="enrollment.api.register",
        capability="enrollment.edit",
        kind="api",
        call=lambda client, world, t: (_campaign(t.county_code), _json(
            client, "/api/enrollments", {"resident_id": t.member.pk, "benefit_year": _campaign(t.county_code).benefit_year}
        ))[1],
        shows=lambda t: t.member.name,
        effect=lambda world, t: _enrollment(t) is not None,
    ),
    ScopeOperation(
        name="enrollment.api.suspend",
        capability="enrollment.edit",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/enrollments/{_enrolled(t).pk}/suspend", {"reason": "矩阵"}),
        shows=lambda t: t.member.name,
        effect=_status("suspended"),
    ),
    ScopeOperation(
        name="enrollment.api.terminate",
        capability="enrollment.edit",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/enrollments/{_enrolled(t).pk}/terminate",
                                            {"cause": "death", "reason": "矩阵"}),
        shows=lambda t: t.member.name,
        effect=_status("terminated"),
    ),
    ScopeOperation(
        name="enrollment.api.transfer",
        capability="enrollment.edit",
        kind="api",
        call=lambda client, world, t: _json(client, f"/api/enrollments/{_enrolled(t).pk}/transfer",
                                            {"to_village_code": t.neighbour_code, "reason": "婚迁"}),
        shows=lambda t: t.member.name,
        leaks=lambda t: [],
        allowed=_both_villages,
        effect=lambda world, t: _enrollment(t) is not None and _enrollment(t).village_code == t.neighbour_code,
    ),
]

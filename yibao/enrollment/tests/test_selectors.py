"""Reads of the enrollment area, always within a scope."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from yibao.accounts.scope import Scope
from yibao.enrollment import selectors
from yibao.enrollment.services import assessment_run, enrollment_register
from yibao.enrollment.tests import factories as f
from yibao.registry.models import Identity

pytestmark = pytest.mark.django_db

COUNTY = Scope(role="county_admin", region_code="340321")
TOWNSHIP = Scope(role="township_officer", region_code="340321100")
VILLAGE = Scope(role="village_collector", region_code="340321100001")
OTHER = Scope(role="county_admin", region_code="421223")


@pytest.fixture
def assessed():
    f.region_tree("340321", "340321200", "340321200001")
    a = f.resident(name="甲", identities=["dibao"])
    b = f.resident(name="乙", village="340321200001", identities=["entitled_group"])
    campaign = f.campaign()
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    return campaign, a, b


def test_totals_follow_the_scope(assessed):
    campaign, *_ = assessed
    assert selectors.assessment_summary(scope=COUNTY, campaign=campaign)["payable"] == 460
    assert selectors.assessment_summary(scope=VILLAGE, campaign=campaign)["payable"] == 60
    by_township = selectors.assessment_totals(scope=COUNTY, campaign=campaign)
    assert [(r["code"], r["payable"], r["refund_later"]) for r in by_township] == [
        ("340321100", 60, 0), ("340321200", 400, 400)]
    assert [r["code"] for r in selectors.assessment_totals(scope=TOWNSHIP, campaign=campaign)] == ["340321100001"]
    with pytest.raises(PermissionDenied):
        selectors.assessment_totals(scope=TOWNSHIP, campaign=campaign, region="340321200")
    with pytest.raises(PermissionDenied):
        selectors.assessment_totals(scope=COUNTY, campaign=campaign, region="421223")


def test_campaigns_of_another_county_are_not_visible(assessed):
    campaign, *_ = assessed
    assert list(selectors.campaign_list(scope=OTHER)) == []
    with pytest.raises(Http404):
        selectors.campaign_in_scope(scope=OTHER, pk=campaign.pk)
    assert selectors.campaign_in_scope(scope=VILLAGE, pk=campaign.pk) == campaign


def test_assessment_search_by_name_number_and_acceptance(assessed):
    campaign, a, b = assessed
    assert [x.resident for x in selectors.assessment_search(scope=COUNTY, campaign=campaign, q="乙")] == [b]
    assert [x.resident for x in selectors.assessment_search(scope=COUNTY, campaign=campaign, q=a.id_number)] == [a]
    assert list(selectors.assessment_search(scope=COUNTY, campaign=campaign, accepted=False)) == []
    with pytest.raises(PermissionDenied):
        list(selectors.assessment_search(scope=VILLAGE, campaign=campaign, village="340321200001"))
    with pytest.raises(Http404):
        selectors.assessment_get(scope=VILLAGE, campaign=campaign, resident_id=b.pk)


def test_explain_uses_the_scalar_quote_and_notices_changes(assessed):
    campaign, a, _ = assessed
    row = selectors.assessment_get(scope=COUNTY, campaign=campaign, resident_id=a.pk)
    explained = selectors.assessment_explain(assessment=row)
    assert explained["quote"].payable == row.payable and not explained["stale"]
    assert any("低保对象" in line for line in explained["quote"].explanation)
    Identity.objects.filter(resident=a).delete()
    assert selectors.assessment_explain(assessment=row)["stale"]


def test_enrollment_search_and_events(assessed):
    campaign, a, b = assessed
    e = enrollment_register(resident=a, campaign=campaign, actor="测试")
    enrollment_register(resident=b, campaign=campaign, actor="测试")
    assert [x.resident for x in selectors.enrollment_search(scope=VILLAGE)] == [a]
    assert selectors.enrollment_search(scope=COUNTY, benefit_year=2025, status="registered").count() == 2
    assert selectors.enrollment_search(scope=COUNTY, benefit_year=2024).count() == 0
    with pytest.raises(Http404):
        selectors.enrollment_in_scope(scope=OTHER, pk=e.pk)
    assert [ev.label for ev in selectors.enrollment_events(enrollment=e)] == ["参保登记"]


def test_the_latest_assess_job_of_a_campaign(assessed):
    campaign, *_ = assessed
    from yibao.enrollment.tasks import assessment_job_create

    assert selectors.campaign_assess_job(campaign=campaign) is None
    first = assessment_job_create(campaign=campaign, actor="测试")
    second = assessment_job_create(campaign=campaign, actor="测试")
    assert selectors.campaign_assess_job(campaign=campaign) == second != first
    # a county job: a county account sees it, a village account (its page, its API) does not
    assert selectors.campaign_assess_job(campaign=campaign, scope=COUNTY) == second
    assert selectors.campaign_assess_job(campaign=campaign, scope=VILLAGE) is None


def test_a_residents_assessments_for_their_page(assessed):
    campaign, a, _ = assessed
    rows = selectors.resident_assessments(resident=a)
    assert [(r.campaign, r.payable) for r in rows] == [(campaign, 60)]

"""The enrollment services that payments book through."""

import datetime as dt

import pytest

from yibao.core.models import Event
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import household_role, person_for
from yibao.enrollment.services import EnrollmentError, enrollment_end, enrollment_mark_paid, enrollment_register
from yibao.enrollment.tests import factories as f
from yibao.regions.models import Region
from yibao.registry.models import Flag, GroupFact, Resident

pytestmark = pytest.mark.django_db


def test_register_is_first_then_renewal_and_idempotent():
    person = f.resident()
    campaign = f.campaign()
    first = enrollment_register(resident=person, campaign=campaign, actor="测试")
    assert first.kind == Enrollment.Kind.FIRST and first.status == Enrollment.Status.REGISTERED
    assert enrollment_register(resident=person, campaign=campaign, actor="测试").pk == first.pk
    assert Event.objects.filter(entity="enrollment", entity_id=str(first.pk), action="registered").count() == 1

    enrollment_mark_paid(enrollment=first, benefit_start=dt.date(2025, 1, 1), benefit_end=dt.date(2025, 12, 31), actor="测试")
    next_year = Campaign.objects.create(
        county_code="340321", benefit_year=2026, policy_id="anhui-huaiyuan-2025", policy_version="x",
        collection_start=dt.date(2025, 9, 1), collection_end=dt.date(2025, 12, 31),
    )
    assert enrollment_register(resident=person, campaign=next_year, actor="测试").kind == Enrollment.Kind.RENEWAL


def test_a_flagged_resident_cannot_enroll():
    person = f.resident()
    Flag.objects.create(county_code=person.county_code, resident=person, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某单位")
    with pytest.raises(EnrollmentError, match="暂不能参保"):
        enrollment_register(resident=person, campaign=f.campaign(), actor="测试")


def test_same_id_number_cannot_enroll_in_two_counties_for_one_year():
    person = f.resident()
    f.campaign()
    enrollment_register(resident=person, campaign=Campaign.objects.get(county_code="340321"), actor="测试")
    twin = Resident.objects.create(
        county_code="340322", township_code="340322100", village_code="340322100001", id_number=person.id_number,
        name=person.name, sex=person.sex, birth_date=person.birth_date,
    )
    other = f.campaign(county="340322")
    Region.objects.filter(code="340321").update(name="怀远县")
    with pytest.raises(EnrollmentError, match="已在怀远县登记"):
        enrollment_register(resident=twin, campaign=other, actor="测试")


def test_claim_constraint_holds_even_when_the_friendly_check_is_bypassed():
    person = f.resident()
    campaign = f.campaign()
    enrollment_register(resident=person, campaign=campaign, actor="测试")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentClaim.objects.create(id_number=person.id_number, benefit_year=2025, county_code="340322", enrollment_id=999)


def test_last_years_enrollment_elsewhere_must_be_suspended_first():
    person = f.resident()
    old_county = f.campaign(county="340322")
    old_county.benefit_year = 2024
    old_county.save()
    Enrollment.objects.create(
        county_code="340322", township_code="340322100", village_code="340322100001", campaign=old_county,
        benefit_year=2024, resident_id=999999, id_number=person.id_number, kind="first", status="paid",
    )
    with pytest.raises(EnrollmentError, match="参保暂停"):
        enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    Enrollment.objects.filter(county_code="340322").update(status="suspended")
    assert enrollment_register(resident=person, campaign=Campaign.objects.get(county_code="340321"), actor="测试")


def test_ending_with_a_refund_releases_the_claim():
    person = f.resident()
    enrollment = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_end(enrollment=enrollment, action="terminate", reason="参加职工医保", actor="测试", release_claim=True)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.TERMINATED
    assert not EnrollmentClaim.objects.filter(id_number=person.id_number, released_at__isnull=True).exists()
    with pytest.raises(EnrollmentError, match="已终止"):
        enrollment_register(resident=person, campaign=enrollment.campaign, actor="测试")


def test_person_for_takes_identities_valid_on_the_day_and_the_latest_event():
    person = f.resident(identities=["dibao"], relation="女儿")
    person.identities.update(valid_to=dt.date(2024, 9, 30))
    GroupFact.objects.create(county_code=person.county_code, resident=person, group="veteran", event_date=dt.date(2024, 6, 1))
    view = person_for(resident=person, on=dt.date(2024, 10, 1), benefit_year=2025)
    assert view.identities == frozenset() and view.groups == {"veteran"}
    assert view.event_date == dt.date(2024, 6, 1) and view.household_role == "child"
    assert person_for(resident=person, on=dt.date(2024, 9, 1), benefit_year=2025).identities == {"dibao"}


def test_household_roles():
    assert household_role("户主") == "parent" and household_role("配偶") == "parent"
    assert household_role("女儿") == "child" and household_role("孙子") is None

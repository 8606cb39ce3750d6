from collections import Counter

import pytest

from yibao.core.models import Job
from yibao.demo.build import demo_build
from yibao.demo.history import demo_history
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.registry.models import Resident


def test_last_years_roster_of_the_demo_county_through_the_import_job(db):
    from yibao.enrollment.services import enrollment_register
    from yibao.enrollment.tests.factories import campaign

    demo_build(residents=400, seed=7)
    result = demo_history("340321", 2024, seed=7)
    active = Resident.objects.filter(status=Resident.Status.ACTIVE).count()
    statuses = Counter(Enrollment.objects.filter(benefit_year=2024).values_list("status", flat=True))
    assert result["rejected"] == 0 and result["imported"] == sum(statuses.values()) and result["skipped"] > 0
    assert 0.8 * active <= statuses["paid"] <= 0.95 * active
    assert statuses["suspended"] >= 1 and statuses["terminated"] >= 1
    assert Campaign.objects.get(benefit_year=2024).imported
    assert EnrollmentClaim.objects.filter(benefit_year=2024, released_at__isnull=True).count() == statuses["paid"]
    assert Job.objects.get(pk=result["job"]).kind == "import_enrollments"
    again = demo_history("340321", 2024, seed=7)
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, result["imported"])

    this_year = campaign(county="340321")  # 2025 opened in Yibao: renewals follow the roster
    last = Enrollment.objects.filter(benefit_year=2024, status="paid").select_related("resident").first()
    assert enrollment_register(resident=last.resident, campaign=this_year, actor="测试").kind == "renewal"
    with pytest.raises(RuntimeError, match="2025年度已在本系统开启征缴"):
        demo_history("340321", 2025, seed=7)

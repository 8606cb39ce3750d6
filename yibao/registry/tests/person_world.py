"""A person with everything the person page shows: household, 核定, payment, receipt, refund, 先缴后补,
a 催缴 mark and a reconciliation difference; and a person of another village with the same kinds of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from yibao.collection import services as s
from yibao.collection.models import Payment
from yibao.collection.tests import factories as f


@dataclass
class PersonWorld:
    home: object
    head: object
    spouse: object
    child: object
    other: object
    payment: Payment
    own_mismatch: object
    far_mismatch: object


def build(settings) -> PersonWorld:
    from yibao.enrollment.services import assessment_run
    from yibao.progress.models import RemindMark
    from yibao.reconciliation.models import Mismatch, ReconciliationRun

    settings.YIBAO_TODAY = "2024-10-08"
    campaign = f.campaign()
    home, head, spouse, child = f.family(number="P900", spouse_identities=["entitled_group"])
    other = f.resident(village=f.OTHER_VILLAGE, name="外村人", relation="户主")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    s.payment_collect(residents=[spouse], channel="cash", actor="测试")  # 400, of which 400 先缴后补
    s.payment_collect(residents=[other], channel="cash", actor="测试")
    payment = Payment.objects.get(resident=spouse)
    s.refund_request(payment=payment, reason="joined_employee_insurance", actor="测试", note="某公司职工医保")
    for person in (spouse, other):
        RemindMark.objects.create(
            county_code="340321", township_code=person.village_code[:9], village_code=person.village_code,
            benefit_year=2025, resident=person, outcome="contacted", note=f"{person.name}电话已通知", marked_by_name="村收款员",
        )
    run = ReconciliationRun.objects.create(
        county_code="340321", benefit_year=2025, as_of=dt.date(2024, 10, 8), ran_on=dt.date(2024, 10, 8),
        started_at=timezone.now(), tax_file_name="t.csv", tax_file_sha256="0" * 64,
    )

    def mismatch(village, id_number, name, detail):
        return Mismatch.objects.create(
            run=run, county_code="340321", township_code=village[:9], village_code=village, kind="booked_not_paid",
            responsible="collector", responsible_name="村征收员", key=f"k:{detail}", first_seen_run_id=run.pk,
            first_seen_on=run.ran_on, person_name=name, id_number=id_number, detail=detail, action="核实后补录",
            difference=Decimal("400.00"),
        )

    own = mismatch(f.VILLAGE, spouse.id_number, spouse.name, "本村差异：已入账未到账")
    far = mismatch(f.OTHER_VILLAGE, spouse.id_number, spouse.name, "外村差异：同一号码")  # names her, but in another village
    mismatch(f.OTHER_VILLAGE, other.id_number, other.name, "外村人的差异")
    return PersonWorld(home=home, head=head, spouse=spouse, child=child, other=other, payment=payment,
                       own_mismatch=own, far_mismatch=far)

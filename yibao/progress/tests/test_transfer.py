"""A person's figures follow them when they move village (迁移): progress, the 12-10 comparison and 催缴."""

import pytest

from yibao.accounts.scope import Scope
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.enrollment.services import enrollment_transfer
from yibao.progress import remind, services
from yibao.progress.models import RemindMark
from yibao.progress.tests import builders as b
from yibao.registry.services import resident_move

pytestmark = pytest.mark.django_db(transaction=True)  # the rollup is counted again once the move commits
COUNTY_SCOPE = Scope(role="county_admin", region_code=b.COUNTY)
VILLAGES = (b.DONGCUN, b.XICUN, b.NANCUN, b.BEICUN)


def figures(client) -> dict[str, dict]:
    """Each village's and the county's figures, as the progress API gives them."""
    out = {}
    for town in (b.LIUCHENG, b.LONGKANG):
        for unit in client.get("/api/progress", {"region": town, "year": 2025}).json()["children"]:
            out[unit["code"]] = unit
    out[b.COUNTY] = client.get("/api/progress", {"region": b.COUNTY, "year": 2025}).json()["unit"]
    return out


def add_up(units: dict[str, dict]) -> None:
    for code in VILLAGES:
        assert units[code]["paid"] <= units[code]["enrolled"], code
    for key in ("paid", "enrolled", "last_year", "renewed"):
        assert sum(units[c][key] for c in VILLAGES) == units[b.COUNTY][key], key


@pytest.mark.parametrize("how", ["registry", "enrollment"])
def test_a_paid_person_who_moves_counts_in_the_new_village(county, client, login, settings, how):
    settings.YIBAO_TODAY = "2024-10-31"
    login("county_admin")
    before = figures(client)
    assert (before[b.XICUN]["paid"], before[b.XICUN]["enrolled"]) == (2, 2)
    mover = county["e"]  # 戊 of 西村: enrolled last year, paid this year
    if how == "registry":
        resident_move(actor="测试", resident=mover, to_village_code=b.NANCUN, reason="婚迁")
    else:
        enrollment = Enrollment.objects.get(resident=mover, benefit_year=2025)
        enrollment_transfer(enrollment=enrollment, to_village_code=b.NANCUN, actor="测试", reason="婚迁")
    after = figures(client)
    add_up(after)
    assert (after[b.XICUN]["paid"], after[b.XICUN]["enrolled"], after[b.XICUN]["last_year"]) == (1, 1, 0)
    assert (after[b.NANCUN]["paid"], after[b.NANCUN]["enrolled"]) == (2, 2)
    assert (after[b.NANCUN]["last_year"], after[b.NANCUN]["renewed"]) == (1, 1)
    for key in ("paid", "enrolled", "last_year", "renewed", "expected"):
        assert after[b.COUNTY][key] == before[b.COUNTY][key], key
    # the carried rows (a registry move: the years still open; a transfer of an enrollment: its year on) and the
    # money each have an event; the payment row keeps where the cash was taken
    carried = {(2024, b.NANCUN), (2025, b.NANCUN)} if how == "registry" else {(2024, b.XICUN), (2025, b.NANCUN)}
    assert set(Enrollment.objects.filter(resident=mover).values_list("benefit_year", "village_code")) == carried
    payment = mover.payments.get()
    assert payment.village_code == b.XICUN
    event = Event.objects.get(entity="payment", entity_id=str(payment.pk), action="transferred")
    assert (event.before["counted_in"], event.after["counted_in"], event.after["taken_in"]) == (b.XICUN, b.NANCUN, b.XICUN)
    assert Event.objects.filter(entity="enrollment", action="transferred").count() == (2 if how == "registry" else 1)
    # the full count agrees with the count made after the move
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    assert figures(client) == after


def test_remind_follows_the_person_and_their_mark(county, settings):
    """丁 (东村) paid last year, not this year; marked 已参加职工医保 in 东村, then moved to 北村."""
    settings.YIBAO_TODAY = "2024-10-31"
    ding = county["d"]
    services.remind_mark(actor="测试", resident=ding, benefit_year=2025, outcome=RemindMark.Outcome.EMPLOYEE,
                         note="已在县医院参加职工医保")
    ding.refresh_from_db()
    resident_move(actor="测试", resident=ding, to_village_code=b.BEICUN, reason="购房迁入")

    def listed(village, state):
        return [r.resident.name for r in remind.remind_rows(scope=COUNTY_SCOPE, village_code=village,
                                                               benefit_year=2025, state=state)]

    assert listed(b.DONGCUN, "all") == ["乙"] and listed(b.DONGCUN, "open") == ["乙"]
    assert listed(b.BEICUN, "closed") == ["丁"] and listed(b.BEICUN, "open") == []
    summary = remind.renewal_summary(scope=COUNTY_SCOPE, region_code=b.COUNTY, benefit_year=2025)
    assert summary["total"]["open"] == 1 and summary["total"]["closed"] == 1
    town = remind.renewal_summary(scope=COUNTY_SCOPE, region_code=b.LIUCHENG, benefit_year=2025)
    by_village = {r["unit"].code: (r["unit"].not_renewed, r["closed"], r["open"]) for r in town["rows"]}
    assert by_village[b.DONGCUN] == (1, 0, 1)  # 乙 still to chase
    other = remind.renewal_summary(scope=COUNTY_SCOPE, region_code=b.LONGKANG, benefit_year=2025)
    by_village = {r["unit"].code: (r["unit"].not_renewed, r["closed"], r["open"]) for r in other["rows"]}
    assert by_village[b.BEICUN] == (1, 1, 0)  # 丁, checked


def test_a_refund_counted_at_the_counter_village_also_recounts_where_the_payer_lives_now(county, client, login, settings):
    """Collection recounts the village a payment was taken in; the payer's new village follows."""
    settings.YIBAO_TODAY = "2024-10-31"
    login("county_admin")
    resident_move(actor="测试", resident=county["e"], to_village_code=b.NANCUN, reason="婚迁")
    assert figures(client)[b.NANCUN]["paid"] == 2
    payment = county["e"].payments.get()
    type(payment).objects.filter(pk=payment.pk).update(status="refunded")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[payment.village_code])
    after = figures(client)
    assert (after[b.NANCUN]["paid"], after[b.XICUN]["paid"], after[b.COUNTY]["paid"]) == (1, 1, 3)

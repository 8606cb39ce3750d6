"""One rule decides: every path that asks the policy engine about a person gets the same answer.

For random people (identities, group, event date, household role, coverage history), random
payment dates and open or closed years, the quote from the person's own words (what `yibao quote` is told), the counter
(due_quote, payment_collect), the channel ingest (payments_ingest), 重新匹配 (payment_recheck)
and 核定 (assessment) must agree: accepted or not, what is payable, from when cover runs. In a
closed year every booking path first asks the one booking gate, and registers and books exactly
whom the quote then accepts.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from yibao.collection import services as cs
from yibao.collection.ingest import payments_ingest
from yibao.collection.models import Payment
from yibao.collection.selectors import booking_refusal, due_quote
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.enrollment.assessment import assess_frame, persons_frame
from yibao.enrollment.models import Campaign, Enrollment
from yibao.enrollment.selectors import person_for
from yibao.enrollment.services import campaign_close
from yibao.enrollment.tests import factories as ef
from yibao.policy.engine import quote
from yibao.policy.facts import household_role
from yibao.policy.loader import load_policy
from yibao.policy.selectors import quote_for
from yibao.registry.models import GroupFact

POLICIES = {"hubei-suixian-2023": "421321100001", "anhui-huaiyuan-2025": "340321100001"}
IDENTITIES = ["dibao", "tekun", "monitored", "only_daughter_family", "only_son_family", "entitled_group",
              "poverty_exit_stable", "unattended_child"]
GROUPS = [None, "migrant_worker", "migrant_worker", "newborn", "veteran", "graduate"]
RELATIONS = ["户主", "配偶", "女儿", "儿子", "孙子"]


@st.composite
def people(draw):
    policy_id = draw(st.sampled_from(sorted(POLICIES)))
    policy = load_policy(policy_id)
    year = policy.data.benefit_year
    window = policy.data.collection.main_window
    paid_on = draw(st.one_of(
        st.dates(window.start, window.end),
        st.dates(dt.date(year, 1, 1), dt.date(year, 3, 31)),
        st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31)),
    ))
    birth = draw(st.one_of(
        st.dates(dt.date(1940, 1, 1), dt.date(year - 2, 12, 31)),
        st.dates(dt.date(year - 1, 1, 1), paid_on),
    ))
    group = draw(st.sampled_from(GROUPS))
    event_days = draw(st.one_of(st.none(), st.integers(0, 200)))
    return {
        "policy_id": policy_id, "village": POLICIES[policy_id], "year": year, "paid_on": paid_on, "birth": birth,
        "identities": draw(st.lists(st.sampled_from(IDENTITIES), max_size=2, unique=True)),
        "group": group,
        "event_date": None if event_days is None or group is None else paid_on - dt.timedelta(days=event_days),
        "relation": draw(st.sampled_from(RELATIONS)),
        "last_covered": draw(st.sampled_from([None, None, year - 1, year - 1, year - 2, year - 5])),
        "closed": draw(st.sampled_from([False, False, True])),
    }


def _case(policy_id, paid_on, *, group=None, last_covered=None, identities=(), relation="户主",
          birth=dt.date(1990, 6, 6), event_date=None, closed=False):
    year = load_policy(policy_id).data.benefit_year
    return {"policy_id": policy_id, "village": POLICIES[policy_id], "year": year, "paid_on": paid_on, "birth": birth,
            "identities": list(identities), "group": group, "event_date": event_date, "relation": relation,
            "last_covered": last_covered, "closed": closed}


def _resident(p: dict, name: str, id_no: str | None = None):
    person = f.resident(village=p["village"], name=name, birth=p["birth"], identities=p["identities"],
                        relation=p["relation"], id_no=id_no)
    if p["group"]:
        GroupFact.objects.create(county_code=person.county_code, resident=person, group=p["group"],
                                 event_date=p["event_date"])
    if p["last_covered"] is not None:
        history, _ = Campaign.objects.get_or_create(
            county_code=person.county_code, benefit_year=p["last_covered"],
            defaults={"policy_id": "", "policy_version": "", "imported": True,
                      "collection_start": dt.date(p["last_covered"] - 1, 9, 1),
                      "collection_end": dt.date(p["last_covered"] - 1, 12, 31)},
        )
        Enrollment.objects.create(
            county_code=person.county_code, township_code=person.township_code, village_code=person.village_code,
            campaign=history, benefit_year=p["last_covered"], resident=person, id_number=person.id_number,
            kind=Enrollment.Kind.FIRST, status=Enrollment.Status.PAID,
        )
    return person


class OneDecisionTests(TestCase):
    # the cases that once disagreed: 随县's extension is for renewals only, not a first enrollment
    @example(_case("hubei-suixian-2023", dt.date(2023, 2, 1), group="migrant_worker"))
    @example(_case("hubei-suixian-2023", dt.date(2023, 2, 1), group="migrant_worker", last_covered=2022))
    @example(_case("hubei-suixian-2023", dt.date(2023, 1, 15), group="migrant_worker", last_covered=2020))
    @example(_case("anhui-huaiyuan-2025", dt.date(2025, 1, 20), group="migrant_worker", last_covered=2022))
    # a closed year: a newborn after the window registers on every path, an ordinary person on none
    @example(_case("hubei-suixian-2023", dt.date(2023, 2, 10), group="newborn", birth=dt.date(2023, 1, 20),
                   relation="儿子", closed=True))
    @example(_case("hubei-suixian-2023", dt.date(2023, 2, 10), group="veteran", event_date=dt.date(2023, 1, 20),
                   closed=True))
    @example(_case("hubei-suixian-2023", dt.date(2023, 2, 10), closed=True))
    @example(_case("anhui-huaiyuan-2025", dt.date(2024, 12, 1), closed=True))
    @settings(max_examples=36, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(people())
    def test_every_path_gives_the_same_answer(self, p):
        policy = load_policy(p["policy_id"])
        year, paid_on = p["year"], p["paid_on"]
        assume(p["birth"] <= paid_on)
        assume(p["last_covered"] is None or p["last_covered"] >= p["birth"].year)  # no cover before birth
        campaign = ef.campaign(county=p["village"][:6], policy_id=p["policy_id"])
        if p["closed"]:  # a closed year: the booking gate first, then the same quote
            campaign = campaign_close(campaign=campaign, actor="测试", reason="征缴结束")
        gate = booking_refusal(campaign=campaign, paid_on=paid_on)

        # what the person says about themselves, as `yibao quote` is told it
        first = p["last_covered"] is None
        said = quote_for(
            policy_id=p["policy_id"], birth_date=p["birth"], paid_on=paid_on, identities=p["identities"],
            group=p["group"], event_date=p["event_date"], household_role=household_role(p["relation"]),
            first_time=first, gap_years=0 if first else year - 1 - p["last_covered"],
        )
        expect = (said.accepted, said.payable, said.benefit_start, said.rule)

        def answer(q):
            return (q.accepted, q.payable, q.benefit_start, q.rule)

        a = _resident(p, "甲")
        assert answer(quote(policy, person_for(resident=a, on=paid_on, benefit_year=year), paid_on)) == expect
        assert answer(due_quote(resident=a, campaign=campaign, paid_on=paid_on)) == expect

        # 核定
        frame = assess_frame(policy, persons_frame(county_code=a.county_code, benefit_year=year, on=paid_on,
                                                   resident_ids=[a.pk]), paid_on)
        row = frame.row(0, named=True)
        assert (row["accepted"], row["payable"], row["benefit_start"], row["rule"]) == expect

        # the counter (and the registration it makes, in a closed year too)
        books = said.accepted and gate is None
        c = _resident(p, "丙")
        paid_at = f.at(paid_on.isoformat())
        if books:
            result = cs.payment_collect(residents=[c], channel="cash", actor="测试", paid_at=paid_at, benefit_year=year)
            booked = result.payments[0]
            assert (booked.expected_amount, booked.benefit_start) == (said.payable, said.benefit_start)
            assert Enrollment.objects.get(resident=c, benefit_year=year).status == Enrollment.Status.PAID
        else:
            with self.assertRaises(cs.PaymentError):
                cs.payment_collect(residents=[c], channel="cash", actor="测试", paid_at=paid_at, benefit_year=year)
            assert not Enrollment.objects.filter(resident=c, benefit_year=year).exists()

        # the channels: a known payer (乙) at once, an unknown one (丁) registered later and rechecked
        if said.accepted and said.payable == 0:
            return  # a channel carries no 0-yuan payment
        amount = str(said.payable if said.accepted else said.standard)
        b = _resident(p, "乙")
        unknown_id = f.id_number(p["village"][:6], p["birth"])
        when = f"{paid_on.isoformat()} 09:30:00"
        with tempfile.TemporaryDirectory() as tmp:
            path = write_csv(Path(tmp), [line("K1", b, amount, when=when, year=str(year)),
                                         line("U1", unknown_id, amount, when=when, year=str(year))])
            payments_ingest(path=path, actor="测试", county_code=b.county_code, report_path=Path(tmp) / "r.xlsx")
        d = _resident(p, "丁", id_no=unknown_id)
        rechecked = cs.payment_recheck(payment=Payment.objects.get(external_id="U1"), actor="县税务局")
        for payment in (Payment.objects.get(external_id="K1"), rechecked):
            if books:
                assert (payment.status, payment.flag) == ("booked", "")
                assert (payment.expected_amount, payment.benefit_start) == (said.payable, said.benefit_start)
            else:
                assert (payment.status, payment.flag) == ("flagged", "not_accepted")
        assert d.pk


def test_a_first_enrollment_is_not_a_renewal_at_the_counter(db):
    """随县: 外出务工或返乡居民“续保”缴费延长至2月底. A migrant never enrolled here is not renewing."""
    import pytest

    campaign = ef.campaign(county="421321", policy_id="hubei-suixian-2023")
    p = _case("hubei-suixian-2023", dt.date(2023, 2, 1), group="migrant_worker")
    newcomer = _resident(p, "新来")
    answer = due_quote(resident=newcomer, campaign=campaign, paid_on=p["paid_on"])
    assert not answer.accepted and "续保缴费时间" in answer.reason
    with pytest.raises(cs.PaymentError):
        cs.payment_collect(residents=[newcomer], channel="cash", actor="测试", paid_at=f.at("2023-02-01"))
    renewing = _resident(_case("hubei-suixian-2023", dt.date(2023, 2, 1), group="migrant_worker", last_covered=2022),
                         "续保")
    paid = cs.payment_collect(residents=[renewing], channel="cash", actor="测试", paid_at=f.at("2023-02-01"))
    assert paid.payments[0].benefit_start == dt.date(2023, 1, 1)

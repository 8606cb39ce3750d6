"""已整改: the responsible party marks a difference fixed — service, page, API and CLI."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.reconciliation import rectify, selectors
from yibao.reconciliation import services as reconciliation
from yibao.reconciliation.models import Mismatch
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def world(make_user, settings, tmp_path):
    settings.YIBAO_TODAY = "2024-12-02"
    campaign = f.world()
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收", phone="13900001111")
    payer = f.person(name="甲")
    cash = f.payment(campaign, payer, source="counter", channel="cash", collector=li, collector_name="李征收")
    f.receipt([cash])
    f.payment(campaign, f.person(name="乙", village=f.VILLAGE_3), source="counter", channel="cash",
              collector_name="河溜收款员", amount="1234.00")
    third = f.person(name="丙")
    third.phone = "13800002222"
    third.save(update_fields=["phone"])
    wechat = f.payment(campaign, third, amount="380.00")
    tax = f.tax_file(tmp_path / "tax.csv", [f.tax_row(cash), f.tax_row(wechat, **{"实缴金额（元）": "400"})])
    _job, run = reconciliation.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax,
                                       as_of=dt.date(2024, 11, 30), actor="测试")
    return {"li": li, "run": run, "mine": Mismatch.objects.get(run=run, village_code=f.VILLAGE, kind="cash_short")}


def test_the_collector_rectifies_their_own_difference_once_and_an_event_says_so(world):
    mine = rectify.mismatch_rectify(mismatch=world["mine"], actor=world["li"], note="已交款给镇财政所")
    assert mine.rectified and mine.rectified_by == world["li"] and mine.rectified_by_name == "李征收"
    assert mine.rectified_note == "已交款给镇财政所"
    event = Event.objects.get(entity="mismatch", entity_id=str(mine.pk))
    assert event.action == "rectify" and event.after["status"] == "已整改" and event.actor == world["li"]
    with pytest.raises(ValidationError, match="已.*标记为已整改"):
        rectify.mismatch_rectify(mismatch=mine, actor=world["li"])
    assert Event.objects.filter(entity="mismatch").count() == 1


def test_only_the_responsible_party_in_its_area_may_rectify(world, make_user):
    run = world["run"]
    tax_one = Mismatch.objects.get(run=run, kind="amount_differs")
    assert tax_one.responsible == "tax"
    with pytest.raises(PermissionDenied, match="税务"):
        rectify.mismatch_rectify(mismatch=tax_one, actor=world["li"])
    other_village = make_user("heliu", role="village_collector", region_code=f.VILLAGE_3)
    with pytest.raises(PermissionDenied, match="管辖范围"):
        rectify.mismatch_rectify(mismatch=world["mine"], actor=other_village)
    auditor = make_user("audit", role="auditor", region_code=f.COUNTY)
    with pytest.raises(PermissionDenied):
        rectify.mismatch_rectify(mismatch=world["mine"], actor=auditor)
    clerk = make_user("mz", role="department_clerk", region_code=f.COUNTY, department="minzheng")
    assert not rectify.may_rectify(rectify.actor_scope(clerk), world["mine"])
    tax = make_user("tax", role="tax_officer", region_code=f.COUNTY)
    assert rectify.mismatch_rectify(mismatch=tax_one, actor=tax).rectified
    town = make_user("town", role="township_officer", region_code=f.TOWN)
    assert rectify.may_rectify(rectify.actor_scope(town), world["mine"])  # the township answers for its collectors
    assert not Mismatch.objects.get(pk=world["mine"].pk).rectified


def test_rectified_ones_sort_last_and_the_gravest_first(world):
    rows = list(selectors.by_severity(selectors.mismatch_list(scope=rectify.actor_scope(world["li"]),
                                                              run=world["run"])))
    assert rows and rows[0].kind == "cash_short"
    county = make_scope()
    ordered = [m.kind for m in selectors.by_severity(selectors.mismatch_list(scope=county, run=world["run"]))]
    assert ordered.index("payment_without_receipt") < ordered.index("cash_short") < ordered.index("amount_differs")
    first = selectors.by_severity(selectors.mismatch_list(scope=county, run=world["run"])).first()
    rectify.mismatch_rectify(mismatch=first, actor="测试")
    ordered = list(selectors.by_severity(selectors.mismatch_list(scope=county, run=world["run"])))
    assert ordered[-1].pk == first.pk
    assert selectors.my_open_mismatches(scope=county, run=world["run"]).count() == len(ordered) - 1


def make_scope():
    from yibao.accounts.scope import Scope

    return Scope(role="county_admin", region_code=f.COUNTY)


def test_the_page_shows_cards_with_call_links_and_the_button_works(client, world):
    client.force_login(world["li"])
    url = f"/reconciliation/runs/{world['run'].pk}/"
    page = client.get(url).content.decode()
    assert 'id="mismatch-cards"' in page and "tel:13800002222" in page and "tel:13900001111" in page
    assert page.count('data-action="rectify"') == 2  # the table's and the card's, for its one difference
    answer = client.post(f"/reconciliation/mismatches/{world['mine'].pk}/rectify/",
                         {"note": "已交款", "next": url + "?state=open"})
    assert answer.status_code == 302 and answer["Location"] == url + "?state=open"
    assert Mismatch.objects.get(pk=world["mine"].pk).rectified_note == "已交款"
    after = client.get(url).content.decode()
    assert 'data-action="rectify"' not in after and "已整改" in after
    still_open = client.get(url + "?state=open").content.decode()
    assert f'data-mismatch="{world["mine"].pk}"' not in still_open and 'data-kind="amount_differs"' in still_open
    again = client.post(f"/reconciliation/mismatches/{world['mine'].pk}/rectify/", follow=True)
    assert "由李征收标记为已整改" in again.content.decode()


def test_the_page_refuses_others_and_bad_targets(client, world, make_user):
    tax_one = Mismatch.objects.get(run=world["run"], kind="amount_differs")
    client.force_login(world["li"])
    assert client.post(f"/reconciliation/mismatches/{tax_one.pk}/rectify/").status_code == 403
    assert client.post("/reconciliation/mismatches/999999/rectify/").status_code == 404
    assert client.post(f"/reconciliation/mismatches/{world['mine'].pk}/rectify/",
                       {"next": "//evil.example/"})["Location"] == f"/reconciliation/runs/{world['run'].pk}/"
    heliu = make_user("heliu", role="village_collector", region_code=f.VILLAGE_3)
    client.force_login(heliu)
    assert client.post(f"/reconciliation/mismatches/{tax_one.pk}/rectify/").status_code == 403


def test_the_api_rectifies_and_lists_by_state(client, world, make_user):
    client.force_login(world["li"])
    url = f"/api/reconciliation/mismatches/{world['mine'].pk}/rectify"
    answer = client.post(url, {"note": "已交款"}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["rectified"] is True and body["rectified_by"] == "李征收" and body["difference"] == "400.00"
    again = client.post(url, {}, content_type="application/json")
    assert again.status_code == 400 and "已整改" in again.json()["detail"]
    listed = client.get(f"/api/reconciliation/runs/{world['run'].pk}/mismatches", {"state": "open"}).json()
    assert [i["kind"] for i in listed["items"]] == ["amount_differs"]  # 丙's is the tax office's to fix
    done = client.get(f"/api/reconciliation/runs/{world['run'].pk}/mismatches", {"state": "rectified"}).json()
    assert [i["id"] for i in done["items"]] == [world["mine"].pk]
    assert client.get(f"/api/reconciliation/runs/{world['run'].pk}/mismatches", {"state": "x"}).status_code == 422
    tax_one = Mismatch.objects.get(run=world["run"], kind="amount_differs")
    assert client.post(f"/api/reconciliation/mismatches/{tax_one.pk}/rectify", {},
                       content_type="application/json").status_code == 403
    assert client.post("/api/reconciliation/mismatches/0/rectify", {}, content_type="application/json").status_code in (404, 422)
    assert client.post(url, {"note": "x" * 201}, content_type="application/json").status_code == 422


def test_the_cli_rectifies_with_json(world):
    result = runner.invoke(app, ["reconcile-rectify", str(world["mine"].pk), "--note", "已交款", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["id"] == world["mine"].pk and body["rectified"] is True and body["rectified_note"] == "已交款"
    assert body["difference"] == "400.00"
    again = runner.invoke(app, ["reconcile-rectify", str(world["mine"].pk)])
    assert again.exit_code != 0 and "已整改" in again.output
    missing = runner.invoke(app, ["reconcile-rectify", "999999"])
    assert missing.exit_code != 0 and "不存在" in missing.output

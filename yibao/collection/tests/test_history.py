"""Payments with a history campaign present: an imported past year is never quoted or paid for."""

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection import selectors, services
from yibao.collection.models import Payment
from yibao.collection.tests import factories as f
from yibao.enrollment.models import Campaign
from yibao.imports.tests.roster import paid, roster_import

pytestmark = pytest.mark.django_db
REFUSAL = "2024年度为导入的历史名单，没有缴费政策，不能收款。"


@pytest.fixture
def county(settings, tmp_path):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()  # 2025, opened in Yibao
    person = f.resident(name="历史甲")
    roster_import(tmp_path, [paid(person)])
    assert Campaign.objects.get(benefit_year=2024).imported
    return person


def test_the_counter_refuses_the_history_year_and_takes_this_year(county):
    with pytest.raises(services.PaymentError, match=REFUSAL):
        services.payment_collect(residents=[county], channel="cash", actor="测试", benefit_year=2024)
    dues = selectors.member_dues(scope=_scope(), residents=[county], benefit_year=2024)
    assert dues.campaign is None and dues.error == REFUSAL
    result = services.payment_collect(residents=[county], channel="cash", actor="测试", amount=Decimal("400"))
    assert result.total == Decimal("400.00") and Payment.objects.get().benefit_year == 2025
    assert Payment.objects.get().enrollment.kind == "renewal"  # on last year's imported roster


def _scope():
    from yibao.accounts.scope import Scope

    return Scope(role="county_admin", region_code="340321")


def test_counter_page_and_api(client, make_user, county):
    client.force_login(make_user("collector", role="village_collector", region_code=f.VILLAGE))
    page = client.get(f"/collection/counter/residents/{county.pk}/")
    assert page.status_code == 200 and "400.00" in page.content.decode()
    refused = client.post("/api/collection/counter-payments",
                          {"resident_ids": [county.pk], "channel": "cash", "benefit_year": 2024},
                          content_type="application/json")
    assert refused.status_code == 400 and REFUSAL in refused.json()["detail"]
    assert not Payment.objects.exists()
    assert client.get("/collection/payments/", {"year": 2024}).status_code == 200


def test_cli_pay_refuses_the_history_year(county):
    result = CliRunner().invoke(app, ["pay", "--id-number", county.id_number, "--year", "2024", "--amount", "400",
                                      "--channel", "现金", "--json"])
    assert result.exit_code != 0 and REFUSAL in result.stderr and result.stdout == ""
    ok = CliRunner().invoke(app, ["pay", "--id-number", county.id_number, "--year", "2025", "--amount", "400",
                                  "--channel", "现金", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["booked"] == 1

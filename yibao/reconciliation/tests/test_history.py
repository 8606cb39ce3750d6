"""Reconciliation with a history campaign present: the imported year was not collected here."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from typer.testing import CliRunner

from yibao.accounts.scope import scope_for
from yibao.cli import app
from yibao.imports.tests.roster import paid, roster_import
from yibao.reconciliation import selectors, services
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db
NOTE = "2024年度为导入的历史名单，没有缴费政策"


@pytest.fixture
def history(tmp_path):
    f.world()  # 2025 opened in Yibao
    roster_import(tmp_path, [paid(f.person())])


def test_month_check_of_a_history_year_requires_nothing(history, make_user):
    admin = scope_for(make_user("admin", role="county_admin", region_code=f.COUNTY))
    check = selectors.month_check(scope=admin, county_code=f.COUNTY, benefit_year=2024, today=dt.date(2025, 3, 1))
    assert check["required"] == {"times": 0, "source": "history", "policy_id": "", "reference": NOTE}
    assert check["months"] == [] and check["short"] == 0
    assert selectors.campaign_years(scope=admin, county_code=f.COUNTY) == [2025]  # history years are not offered
    this_year = selectors.month_check(scope=admin, county_code=f.COUNTY, benefit_year=2025, today=dt.date(2024, 11, 15))
    assert this_year["required"]["times"] == 2 and this_year["short"] == 2


def test_a_history_year_is_not_reconciled_nor_gets_cash_handovers(history, make_user):
    with pytest.raises(ValidationError, match="没有在本系统征缴，不能对账"):
        services.run_params_check(county_code=f.COUNTY, benefit_year=2024, as_of=None)
    officer = make_user("town", role="township_officer", region_code=f.TOWN)
    with pytest.raises(ValidationError, match="不能登记现金交款"):
        services.handover_record(actor=officer, village_code=f.VILLAGE, benefit_year=2024, collector_name="李征收",
                                 period_start=dt.date(2024, 1, 2), period_end=dt.date(2024, 1, 3),
                                 handed_on=dt.date(2024, 1, 4), amount="10")


def test_pages_api_and_cli_with_a_history_year(history, client, make_user):
    client.force_login(make_user("admin", role="county_admin", region_code=f.COUNTY))
    page = client.get("/reconciliation/", {"year": 2024})
    assert page.status_code == 200 and f"{NOTE}，没有在本系统征缴，不要求对账" in page.content.decode()
    assert client.get("/reconciliation/").status_code == 200
    calendar = client.get("/api/reconciliation/calendar", {"year": 2024}).json()
    assert calendar["required_source"] == "history" and calendar["months"] == []
    result = CliRunner().invoke(app, ["reconcile-calendar", "--county", f.COUNTY, "--year", "2024"])
    assert result.exit_code == 0 and "不要求对账" in result.stdout
    data = json.loads(CliRunner().invoke(app, ["reconcile-calendar", "--county", f.COUNTY, "--year", "2024",
                                               "--json"]).stdout)
    assert data["required_source"] == "history" and data["short_months"] == 0

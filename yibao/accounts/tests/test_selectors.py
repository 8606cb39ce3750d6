import pytest
from django.http import Http404

from yibao.accounts import selectors
from yibao.accounts.models import User
from yibao.accounts.scope import scope_for
from yibao.registry.tests.fixtures import SHENNONG


def test_admin_lists_only_accounts_of_their_county(admin, staff):
    outsider = User.objects.create_user(username="sx", password="p", role="village_collector", region_code=SHENNONG)
    User.objects.create_superuser(username="root", password="p")
    names = {u.username for u in selectors.user_list(scope=scope_for(admin))}
    assert names == set(staff)
    with pytest.raises(Http404):
        selectors.user_get(scope=scope_for(admin), pk=outsider.pk)


def test_filters(admin, staff):
    scope = scope_for(admin)
    assert [u.username for u in selectors.user_list(scope=scope, role="auditor")] == ["auditor"]
    staff["auditor"].is_active = False
    staff["auditor"].save()
    assert "auditor" not in {u.username for u in selectors.user_list(scope=scope, active=True)}
    assert [u.username for u in selectors.user_list(scope=scope, q="乡镇")] == ["township_officer"]


def test_account_summary_names_role_region_and_capabilities(staff):
    clerk = staff["department_clerk"]
    summary = selectors.account_summary(user=clerk, scope=scope_for(clerk))
    assert summary["role_label"] == "部门名单报送员"
    assert summary["region_name"] == "崇阳县"
    assert summary["department_label"] == "民政"
    assert summary["full_id"] is False
    assert "identities.import" in summary["capabilities"] and "registry.view" not in summary["capabilities"]
    collector = staff["village_collector"]
    assert selectors.account_summary(user=collector, scope=scope_for(collector))["region_name"] == "崇阳县 / 肖岭乡 / 白马"

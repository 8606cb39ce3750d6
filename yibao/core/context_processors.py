from yibao.accounts.roles import Role
from yibao.core.navigation import nav_for, nav_groups


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from yibao.accounts.scope import scope_for
    from yibao.regions.selectors import region_name

    scope = getattr(request, "scope", None) or scope_for(user)
    items = nav_for(scope)
    return {
        "nav_items": items,
        "nav_groups": nav_groups(items),
        "current_scope": scope,
        "role_label": Role(scope.role).label if scope.role in Role.values else scope.role,
        "region_label": region_name(scope.region_code) if scope.region_code else "全部地区",
    }

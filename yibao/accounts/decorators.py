"""The one decorator every page uses: login, capability check, request.scope."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from yibao.accounts.scope import scope_for


def scoped_view(capability: str | None = None):
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            request.scope = scope_for(request.user)
            if capability:
                request.scope.require(capability)
            return view(request, *args, **kwargs)

        return wrapper

    if callable(capability):  # used bare: @scoped_view
        view, capability = capability, None
        return decorate(view)
    return decorate


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)

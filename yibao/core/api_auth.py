"""API authentication: the Django session (pages' login), giving request.auth = the user's Scope."""

from ninja.security import SessionAuth

from yibao.accounts.scope import scope_for


class SessionScopeAuth(SessionAuth):
    def authenticate(self, request, key):
        if request.user.is_authenticated:
            return scope_for(request.user)
        return None


session_scope = SessionScopeAuth()

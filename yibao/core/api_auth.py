"""API authentication: the Django session (pages' login), giving request.auth = the user's Scope.

A session whose required second factor is not yet passed is not logged in for the API
(SecondFactorMiddleware answers such calls with a Chinese 401 before they get here).
"""

from ninja.security import SessionAuth

from yibao.accounts.scope import scope_for
from yibao.accounts.security import second_factor_pending


class SessionScopeAuth(SessionAuth):
    def authenticate(self, request, key):
        if request.user.is_authenticated and not second_factor_pending(request.user):
            return scope_for(request.user)
        return None


session_scope = SessionScopeAuth()

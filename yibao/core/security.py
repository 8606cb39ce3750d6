"""Security on every response and session: CSP, Permissions-Policy, and the idle timeout.

The headers' values are settings (YIBAO_CONTENT_SECURITY_POLICY, YIBAO_PERMISSIONS_POLICY); Django's
SecurityMiddleware adds HSTS, nosniff and Referrer-Policy. See docs/deploy.md.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

# The idle timer is renewed at most this often, so a busy user does not write the session on every request.
SESSION_RENEW_EVERY = timedelta(seconds=60)
SESSION_TOUCHED_KEY = "_yibao_touched"


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy unless a view already set them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        csp = getattr(settings, "YIBAO_CONTENT_SECURITY_POLICY", "")
        if csp and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = csp
        permissions = getattr(settings, "YIBAO_PERMISSIONS_POLICY", "")
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response


class IdleSessionMiddleware:
    """A logged-in session lives SESSION_COOKIE_AGE seconds after its last use, not after login.

    Each use moves the expiry forward, but the session row is written at most once a minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = timezone.now()
            touched = session.get(SESSION_TOUCHED_KEY)
            if touched is None or now.timestamp() - touched >= SESSION_RENEW_EVERY.total_seconds():
                session[SESSION_TOUCHED_KEY] = now.timestamp()  # marks the session modified: saved, expiry renewed
        return self.get_response(request)

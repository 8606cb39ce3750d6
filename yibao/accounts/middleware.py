"""Until a required second factor is passed, every page sends the user to it and the API answers 401."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from yibao.accounts.security import has_device, second_factor_pending

SECOND_FACTOR_MESSAGE = "该账号须先完成二次验证（动态验证码）才能使用。请在登录页输入手机验证器上的6位验证码。"


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if second_factor_pending(request.user) and not self._open(request.path):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": SECOND_FACTOR_MESSAGE, "second_factor": True}, status=401,
                                    json_dumps_params={"ensure_ascii": False})
            target = "accounts:otp_verify" if has_device(request.user) else "accounts:otp_enrol"
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse(target) + (f"?{query}" if query else ""))
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        """Paths a user between password and code may reach: the code pages, logout, static files, the API login."""
        return path.startswith((
            reverse("accounts:otp_verify"), reverse("accounts:otp_enrol"), reverse("accounts:logout"),
            reverse("accounts:login"), "/static/", "/api/login", "/api/logout", "/healthz",
        ))

"""Answers bad input with 400 and a Chinese message instead of a server error (pages and API)."""

from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.template.loader import render_to_string

from yibao.core.inputs import BadInput

MALFORMED_UPLOAD = "上传的表单格式不正确（multipart 缺少或带有无效的 boundary），请重新提交。"


def bad_request(request, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400, json_dumps_params={"ensure_ascii": False})
    try:
        html = render_to_string("400.html", {"message": message}, request=request)
    except Exception:  # a page that cannot render must still answer 400, never 500
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(html, status=400)


class BadInputMiddleware:
    """Placed before CSRF (which reads the form): a multipart body it cannot parse is a 400, not a 500;
    a view that raises BadInput answers 400 with its message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.content_type.startswith("multipart/"):
            try:
                MultiPartParser(request.META, request, request.upload_handlers, request.encoding)
                if request.method == "POST":
                    request.POST  # noqa: B018 - parse now, where its failure can be answered
            except (MultiPartParserError, UnicodeDecodeError):
                return bad_request(request, MALFORMED_UPLOAD)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BadInput):
            return bad_request(request, exception.message)
        return None

"""Answers bad input with 400 and a Chinese message instead of a server error (pages and API)."""

from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.template.loader import render_to_string

from yibao.core.inputs import BadInput

MALFORMED_UPLOAD = "上传的表单格式不正确（multipart 缺少或带有无效的 boundary），请重新提交。"
NUL_CHARACTER = "请求中含有空字符（NUL，U+0000），请删除后重新提交。"


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists())


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
    so is a NUL character anywhere in the query, the form or a JSON body; a view that raises BadInput
    answers 400 with its message."""

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
        # NUL is never text (PostgreSQL refuses it in any text column): refuse it at the door.
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return bad_request(request, NUL_CHARACTER)
        if request.content_type == "application/json" and b"\\u0000" in request.body:
            return bad_request(request, NUL_CHARACTER)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BadInput):
            return bad_request(request, exception.message)
        return None

"""The HTTP API (django-ninja). OpenAPI at /api/docs. Each app contributes one router."""

import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from yibao.core.api_auth import session_scope
from yibao.core.api_types import ErrorOut, ValidationErrorOut
from yibao.core.api_errors import describe_errors
from yibao.core.inputs import BadInput

api = NinjaAPI(
    title="医保征缴 API",
    version="1",
    description="城乡居民基本医疗保险参保征缴：政策测算、户籍与名单、参保核定、征收、对账与进度。",
    urls_namespace="api",
    auth=session_scope,
    docs_decorator=login_required,  # the docs and the OpenAPI schema are for logged-in staff only
)
logger = logging.getLogger("yibao.api")


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "无权访问。"}, status=403)


@api.exception_handler(AuthenticationError)
def not_logged_in(request, exc):
    return api.create_response(request, {"detail": "请先登录。"}, status=401)


@api.exception_handler(BadInput)
def bad_input(request, exc):
    errors = {exc.field or "request": [exc.message]}
    return api.create_response(request, {"detail": exc.message, "errors": errors}, status=400)


@api.exception_handler(ValidationError)
def invalid_request(request, exc):
    errors = describe_errors(exc.errors)
    return api.create_response(request, {"detail": "；".join(e["message"] for e in errors), "errors": errors}, status=422)


@api.exception_handler(Exception)
def server_error(request, exc):
    """An unexpected error: logged with its traceback, answered as JSON without it (DEBUG or not)."""
    logger.error("API 内部错误 %s %s", request.method, request.path, exc_info=exc)
    return api.create_response(request, {"detail": "服务器内部错误，已记录，请稍后重试或联系管理员。"}, status=500)


def _mount():
    from yibao.accounts.api import router as accounts_router
    from yibao.collection.api import router as collection_router
    from yibao.core.api import router as jobs_router
    from yibao.core.search_api import router as search_router
    from yibao.enrollment.api import router as enrollment_router
    from yibao.imports.api import router as imports_router
    from yibao.policy.api import router as policy_router
    from yibao.progress.api import router as progress_router
    from yibao.progress.rollup_api import router as rollup_router
    from yibao.reconciliation.api import router as reconciliation_router
    from yibao.regions.api import router as regions_router
    from yibao.registry.api import router as registry_router

    for router in (
        policy_router, regions_router, accounts_router, registry_router, imports_router,
        enrollment_router, collection_router, reconciliation_router, rollup_router, progress_router, jobs_router,
        search_router,
    ):
        api.add_router("", router)


ERROR_RESPONSES = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


def _declare_error_responses():
    """Every operation declares the refusals it can answer with (400, 401, 403, 404, 422; a public
    operation leaves out 401 and 403) in the schema.

    An operation's own model for a status (e.g. its 400 ErrorOut) is kept. An operation whose one
    success status is not 200 must return Status(...) itself, since ninja defaults to 200 once an
    operation has several.
    """
    for _, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                public = operation.auth_param is None  # auth=None: never 401 or 403
                for status, model in ERROR_RESPONSES.items():
                    if public and status in (401, 403):
                        continue
                    if status not in operation.response_models:
                        operation.response_models[status] = operation._create_response_model(model)


_mount()
_declare_error_responses()

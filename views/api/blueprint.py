"""The JSON API v1 blueprint: bearer tokens only, JSON in and out, bounded input.

A request to ``/api/v1`` is authorised by ``Authorization: Bearer <token>`` alone
(``workflow.online.tokens``): a browser's session cookie is never looked at, so a page an
attacker lures a clerk onto cannot write through the API, and no CSRF token is needed.
Every answer is JSON — refusals as ``{"error": …, "errors": {field or "_": …}}``, never
an HTML page or a traceback — and a body must be UTF-8 JSON of at most ``MAX_BODY``
bytes and ``MAX_DEPTH`` levels, so a hostile client costs little.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from models import Agency, User
from views.common import Refused, perform
from views.database import db
from views.rate_limits import client_address, counters
from views.security import log
from workflow.kernel.errors import DomainError, GuardError, PermissionDenied, ValidationError
from workflow.kernel.guards import role_refusal
from workflow.online.input import FIX, GENERAL, api_names
from workflow.online.tokens import authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: No CSRF token: a bearer token is not sent by a browser on its own (app.py exempts bp).
CSRF_EXEMPT = True

#: Largest body accepted (a registration is a few kB; a 10 MB body is an attack or a bug).
MAX_BODY = 1024 * 1024
#: Deepest nesting of objects and arrays accepted in a body (the API's own bodies have 3).
MAX_DEPTH = 16
#: A refused body up to this size is read and discarded before the 413 is sent, so the
#: client, still sending, can read the answer instead of a reset connection (what a
#: proxy's lingering close does); a bigger one is cut off.
MAX_DRAIN = 16 * 1024 * 1024
#: Failed token checks allowed per client address in ``BAD_TOKEN_WINDOW`` seconds
#: (default of ``API_MAX_BAD_TOKENS``), counted in the shared store: guessing tokens
#: gets nowhere, and no worker or machine counts on its own.
MAX_BAD_TOKENS = 20
BAD_TOKEN_WINDOW = 15 * 60
#: Endpoints answered without a token.
PUBLIC = frozenset({"api.openapi"})
#: Endpoints whose body may exceed ``MAX_BODY``, with the function giving their bound
#: (the attachment upload: the deployment's attachment limit, registered by
#: ``views.api.attachments``).
LARGE_BODIES: dict[str, Callable[[], int]] = {}

#: Chinese words for the HTTP errors the API itself may answer with.
HTTP_MESSAGES = {
    400: "请求无效",
    401: "缺少或无效的令牌（Authorization: Bearer …）",
    403: "您没有权限进行此操作",
    404: "资源不存在，或您无权查看",
    405: "不支持的请求方式",
    409: "操作冲突，请刷新后重试",
    413: f"请求体过大（不能超过 {MAX_BODY // 1024} KB）",
    415: "请求体须为 JSON（Content-Type: application/json）",
    422: FIX,
    429: "无效令牌的尝试过多，请稍后再试",
    500: "系统内部错误，操作未保存。请稍后重试或联系管理员。",
}


class ApiRefusal(Exception):
    """An answer other than 2xx decided by the API layer itself (auth, body format)."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message or HTTP_MESSAGES[status])
        self.status = status


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json", headers=headers)


def error_response(status: int, message: str, errors: dict[str, str] | None = None) -> Response:
    data: dict[str, Any] = {"error": message}
    if errors is not None:
        data["errors"] = errors
    headers = {"WWW-Authenticate": 'Bearer realm="gongkai"'} if status == 401 else None
    return json_response(data, status, headers)


def is_api_path() -> bool:
    """Whether the current request is for the API (also when no route matched it)."""
    return request.path == "/api" or request.path.startswith("/api/")


def now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")


class Rejected(Exception):
    """A refusal of :func:`views.common.perform`, to be answered as JSON."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(str(refused))
        self.refused = refused


def performed(operation: Callable[[], T], *, conflict: str) -> T:
    """:func:`views.common.perform` for the API: one commit, a refusal answered as JSON."""
    result = perform(operation, conflict=conflict)
    if isinstance(result, Refused):
        raise Rejected(result)
    return result


def api_user() -> User:
    user: User = g.api_user
    return user


def require_roles(allowed: frozenset[str]) -> None:
    """403 with the role rule's own words when the token's user holds none of ``allowed``."""
    reason = role_refusal(allowed, api_user().roles)
    if reason:
        raise PermissionDenied(reason)


def agency_named(code: Any, default: Agency) -> Agency:
    """The agency with ``code`` (the token user's own when absent); 422 when there is none."""
    if code is None:
        return default
    found = db().scalar(select(Agency).where(Agency.code == code)) if code else None
    if found is None:
        raise ValidationError(FIX, {"agency": f"没有代码为“{str(code)[:64]}”的机关"})
    return found


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _no_constants(name: str) -> None:
    raise ValueError(f"JSON 不允许 {name}")


def _too_large(limit: int = MAX_BODY) -> ApiRefusal:
    """The 413, after discarding what is left of the body (up to ``MAX_DRAIN`` bytes)."""
    stream = request.environ["wsgi.input"]
    left = MAX_DRAIN
    while left > 0 and (chunk := stream.read(min(left, 64 * 1024))):
        left -= len(chunk)
    if limit == MAX_BODY:
        return ApiRefusal(413)
    return ApiRefusal(413, f"请求体过大（不能超过 {limit // 1048576} MB）")


def json_body() -> Any:
    """The request body as JSON, or a 4xx: not JSON (415/400), too big (413), too deep."""
    if request.mimetype != "application/json":
        raise ApiRefusal(415)
    # Read through the stream with our own bound: it may already exist, made (with the
    # app's far larger upload limit) by a hook that looked at the form.
    data = request.stream.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise _too_large()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiRefusal(400, f"请求体不是有效的 UTF-8（第 {exc.start} 字节）") from None
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ApiRefusal(400, f"JSON 嵌套过深（最多 {MAX_DEPTH} 层）") from None
    except ValueError as exc:
        raise ApiRefusal(400, f"请求体不是有效的 JSON：{str(exc)[:120]}") from None
    if _depth(value) > MAX_DEPTH:
        raise ApiRefusal(400, f"JSON 嵌套过深（最多 {MAX_DEPTH} 层）")
    return value


@bp.before_request
def _authenticate() -> None:
    """Bound the body, then find the token's user; the session cookie plays no part."""
    large = LARGE_BODIES.get(request.endpoint or "")
    bound = large() if large is not None else MAX_BODY
    if (request.content_length or 0) > bound:
        raise _too_large(bound)
    if request.endpoint in PUBLIC:
        return
    address = client_address()
    limit = int(current_app.config.get("API_MAX_BAD_TOKENS", MAX_BAD_TOKENS))
    if counters().wait("api-bad-token", address, limit, BAD_TOKEN_WINDOW) > 0:
        raise ApiRefusal(429)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiRefusal(401)
    user = authenticate(db(), token.strip(), now())
    if user is None:
        db().rollback()
        counters().hit("api-bad-token", address, BAD_TOKEN_WINDOW)
        log("access_denied", detail={"path": request.path[:200], "reason": "bad_token"})
        raise ApiRefusal(401, "令牌无效、已撤销，或其用户已停用")
    db().commit()  # the token's last use, if it moved
    g.api_user = user


@bp.after_request
def _no_store(response: Response) -> Response:
    """Answers hold personal data: no shared cache may keep them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(ApiRefusal)
def _refused(err: ApiRefusal) -> Response:
    return error_response(err.status, str(err))


@bp.errorhandler(Rejected)
def _rejected(err: Rejected) -> Response:
    """409 for a lost race; 422 with each field's reason (and the rule's, under ``_``)."""
    refused = err.refused
    if refused.status == 409:
        return error_response(409, str(refused))
    fields = api_names(dict(refused.field_errors))
    return error_response(422, str(refused), {**fields, GENERAL: str(refused)})


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    """The domain's refusal in its own words: 422 for content, else the error's status."""
    db().rollback()
    if isinstance(err, ValidationError):
        return error_response(422, str(err), api_names(err.field_errors) or {GENERAL: str(err)})
    if isinstance(err, GuardError):
        return error_response(422, str(err), {**api_names(err.field_errors), GENERAL: str(err)})
    status = 422 if err.status == 400 else err.status
    return error_response(status, str(err))


def status_response(status: int, fallback: str) -> Response:
    """An HTTP error (unknown path, 405, 413 …) as JSON, in the API's words if it has some."""
    return error_response(status, HTTP_MESSAGES.get(status, fallback))


def server_error(err: BaseException) -> Response:
    """Anything unexpected: logged with its traceback, answered without it."""
    current_app.logger.error("API error on %s %s", request.method, request.path, exc_info=err)
    db().rollback()
    return error_response(500, HTTP_MESSAGES[500])

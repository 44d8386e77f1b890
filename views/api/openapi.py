"""``GET /api/v1/openapi.json``: the document generated from the domain (no token needed).

It describes the API, not any data, so a script may read it before it has a token.
"""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.wrappers import Response

from views.api.blueprint import bp, json_response
from workflow.online.schema import openapi_document


@functools.cache
def _document() -> dict[str, Any]:
    return openapi_document(bp.url_prefix or "")


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(_document())

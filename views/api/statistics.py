"""``GET /api/v1/statistics``: the annual tables, the same JSON as ``stats --json``."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from views.access import visible_agency_ids
from views.api.blueprint import agency_named, api_user, bp, json_response
from views.database import db
from workflow.catalog.outcomes import FORMATS
from workflow.kernel.errors import NotFound, ValidationError
from workflow.online.input import FIX
from workflow.statistics.fold import stats_json
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope

PARAMETERS = ("agency", "year", "format", "with_subordinates")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@bp.get("/statistics")
def statistics() -> Response:
    """One agency's year (optionally with its subordinates), as the command prints it."""
    me = api_user()
    args = request.args
    errors = {k: f"未知参数“{k[:60]}”" for k in args if k not in PARAMETERS}
    year_text = args.get("year", "")
    if not (year_text.isascii() and year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        errors["year"] = "请填写统计年度（2000—2100）"
    fmt = args.get("format")
    if fmt is not None and fmt not in FORMATS:
        errors["format"] = "报表格式应为：" + "、".join(FORMATS)
    subs = _BOOLEANS.get(args.get("with_subordinates", "false").lower())
    if subs is None:
        errors["with_subordinates"] = "应为 true 或 false"
    if errors:
        raise ValidationError(FIX, errors)
    agency = agency_named(args.get("agency"), me.agency)
    if agency.id not in visible_agency_ids(me):
        raise NotFound("机关不存在，或您无权查看其统计")
    year = int(year_text)
    result = derive(db(), Scope.of(agency, bool(subs)), year, fmt)
    return json_response(
        stats_json(agency.code, year, result.fmt, result.table3, result.table4, result.checks)
    )

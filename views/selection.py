"""Which agency, year and format a statistics or report page shows (its query string).

The statistics page and the annual-report editor take the same parameters; both parse
them here: an unknown or invisible agency is 404, a bad year falls back to last year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_login import current_user
from sqlalchemy import select

from models import Agency
from views.access import visible_agency_ids
from views.database import db
from workflow.catalog.outcomes import FORMATS
from workflow.kernel.actor import local_today
from workflow.kernel.errors import NotFound
from workflow.statistics.layouts import format_for_year
from workflow.statistics.scope import Scope


@dataclass(frozen=True)
class Selection:
    """What the page shows: agency, year, format and whether subordinates are included."""

    agency: Agency
    year: int
    fmt: str
    fmt_override: str | None
    with_subordinates: bool

    @property
    def scope(self) -> Scope:
        return Scope.of(self.agency, self.with_subordinates)

    def args(self, **extra: Any) -> dict[str, Any]:
        base = {"agency": self.agency.code, "year": self.year}
        if self.fmt_override:
            base["format"] = self.fmt_override
        if self.with_subordinates:
            base["subs"] = 1
        return {**base, **extra}


def parse_selection(*, live_year: bool = False) -> Selection:
    """Parse the query string; unknown or invisible agencies are 404, bad years the default."""
    session = db()
    visible = visible_agency_ids(current_user)
    code = request.args.get("agency") or current_user.agency.code
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None or agency.id not in visible:
        raise NotFound("机关不存在，或您无权查看其统计")
    today = local_today(datetime.now(UTC))
    # The annual report is about last year; live statistics show the running year once
    # last year's reports are due (31 March).
    running = live_year and (today.month, today.day) > (3, 31)
    default = today.year if running else today.year - 1
    text = request.args.get("year", "")
    year = int(text) if text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100 else default
    override = request.args.get("format")
    override = override if override in FORMATS else None
    subs = request.args.get("subs") in ("1", "on", "y")
    return Selection(agency, year, format_for_year(year, override), override, subs)

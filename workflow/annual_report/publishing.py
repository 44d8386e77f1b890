"""Publishing a year's statistics: freeze the numbers with a content hash (docs/domain.md §6).

A publication is an append-only row holding the statistics JSON exactly as published and
the SHA-256 of its canonical form. Later events with an effective date in that year
(a late correction, a void) change a fresh derivation but never the published numbers;
``frozen_differences`` lists every cell where the two now disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, PublishedReport
from models.event import chain_algorithm
from workflow.annual_report.archive import ReportRenderer, freeze_pdf
from workflow.kernel import chain
from workflow.kernel.actor import Actor, local_today, naive_utc
from workflow.kernel.errors import DomainError, PermissionDenied
from workflow.statistics.fold import stats_json
from workflow.statistics.queries import Statistics, derive
from workflow.statistics.scope import Scope

PUBLISHERS = frozenset({"approver", "admin"})


def canonical_hash(numbers: dict[str, Any]) -> str:
    """SHA-256 of the JSON with sorted keys and no whitespace: stable across databases."""
    text = json.dumps(numbers, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The columns of a publication its chain link covers (its numbers through ``content_hash``).
REPORT_FIELDS: tuple[str, ...] = (
    "agency_id",
    "year",
    "with_subordinates",
    "format",
    "content_hash",
    "published_at",
    "published_by_id",
)


def report_link(algorithm: str, previous: str | None, report: Any) -> str:
    """The chain link of a publication after the agency's ``previous`` one.

    ``report`` is a row or anything with the :data:`REPORT_FIELDS` as attributes.
    """
    fields = {name: getattr(report, name) for name in REPORT_FIELDS}
    fields["with_subordinates"] = bool(fields["with_subordinates"])
    return chain.link(algorithm, "report", previous, fields)


def numbers_of(result: Statistics) -> dict[str, Any]:
    return stats_json(
        result.scope.agency.code,
        result.year,
        result.fmt,
        result.table3,
        result.table4,
        result.checks,
    )


def find_published(session: Session, scope: Scope, year: int) -> PublishedReport | None:
    return session.scalar(
        select(PublishedReport).where(
            PublishedReport.agency_id == scope.agency.id,
            PublishedReport.year == year,
            PublishedReport.with_subordinates.is_(scope.with_subordinates),
        )
    )


def publish(
    session: Session,
    actor: Actor,
    now: datetime,
    scope: Scope,
    year: int,
    fmt: str | None = None,
    *,
    render: ReportRenderer | None = None,
) -> PublishedReport:
    """Freeze ``year`` for ``scope``; refuses a year not yet over, failed checks, a repeat.

    With ``render`` the report's PDF is frozen in the same transaction (the page always
    publishes both; the tests also publish the numbers alone).
    """
    if not actor.roles & PUBLISHERS:
        raise PermissionDenied("只有审核人或管理员可以发布年度统计")
    if actor.agency_id != scope.agency.id:
        raise PermissionDenied("只能发布本机关的年度统计")
    if year >= local_today(now).year:
        raise DomainError(f"{year}年度尚未结束，不能发布")
    if find_published(session, scope, year) is not None:
        raise DomainError(f"{year}年度统计已发布，发布后不能更改")
    result = derive(session, scope, year, fmt)
    failed = [c for c in result.checks if not c.ok]
    if failed:
        raise DomainError(f"有 {len(failed)} 项勾稽关系检查未通过，请先核对：{failed[0].detail}")
    numbers = numbers_of(result)
    # The agency's chain of publications has one head: parallel publications of two
    # years wait for each other here (PostgreSQL; SQLite has one writer anyway).
    session.execute(
        select(Agency.id).where(Agency.id == scope.agency.id).with_for_update()
    ).scalar()
    previous = session.scalar(
        select(PublishedReport.chain_hash)
        .where(PublishedReport.agency_id == scope.agency.id)
        .order_by(PublishedReport.id.desc())
        .limit(1)
    )
    report = PublishedReport(
        agency_id=scope.agency.id,
        year=year,
        with_subordinates=scope.with_subordinates,
        format=result.fmt,
        numbers=numbers,
        content_hash=canonical_hash(numbers),
        published_at=naive_utc(now),
        published_by_id=actor.user_id,
    )
    report.chain_hash = report_link(chain_algorithm(), previous, report)
    session.add(report)
    session.flush()
    if render is not None:
        freeze_pdf(session, report, render)
    return report


@dataclass(frozen=True)
class CellChange:
    table: str
    row: str
    column: str
    published: int
    now: int


def frozen_differences(report: PublishedReport, fresh: Statistics) -> list[CellChange]:
    """Cells where a fresh derivation differs from what was published."""
    current = numbers_of(fresh)
    changes = []
    for table in ("table3", "table4"):
        old, new = report.numbers.get(table, {}), current[table]
        for row in sorted(set(old) | set(new)):
            for column in sorted(set(old.get(row, {})) | set(new.get(row, {}))):
                before, after = old.get(row, {}).get(column, 0), new.get(row, {}).get(column, 0)
                if before != after:
                    changes.append(CellChange(table, row, column, before, after))
    return changes


def hash_intact(report: PublishedReport) -> bool:
    """Whether the stored numbers still match the hash taken when they were published."""
    return canonical_hash(report.numbers) == report.content_hash

"""The full 台账 export (issue 15 item 7): every request as one ledger row, and more.

An office keeps one spreadsheet row per request. The export writes that row from the
event log, in two parts:

* the **ledger columns** (``workflow.ledger.reader.LEDGER_COLUMNS``), in the import
  contract's order and headers, each filled from the events the import would replay
  them as (:func:`ledger_cells`). So the exported file imports as it is, and an export
  imported into an empty database counts exactly as the original in every table (the
  round trip is tested): the statistics depend only on what these columns carry (receipt,
  first conclusion and its outcome, void, fees);
* the **record columns** (:data:`RECORD_COLUMNS`): what an office keeps besides and the
  import does not replay (who handles it, acceptance, consultations, service dates, 文书号,
  challenges …). The reader reads past them by header (``EXPORT_ONLY_HEADERS``), so
  adding them costs the round trip nothing.

Where the log holds more than a ledger row can (two supplement requests, a reopened
request decided again), the ledger columns carry what the statistics count: the first
conclusion (docs/domain.md §6, "the first conclusion counts"), the first supplement
request, the last material received before it; the record columns say the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Challenge, Event, Notice, Request, User
from workflow.catalog.applicants import KIND_BY_CODE
from workflow.catalog.challenges import KINDS
from workflow.catalog.channels import CHANNEL_BY_CODE
from workflow.catalog.notices import NOTICE_KIND_BY_CODE
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.states import State
from workflow.ledger.reader import (
    COLUMN_NAMES,
    EXPORT_ONLY_HEADERS,
    LEDGER_COLUMNS,
    WITHDRAWN,
    LedgerCell,
    header_cell,
)
from workflow.requests.operations import histories
from workflow.requests.spec import TRIGGER_LABELS
from workflow.statistics.facts import outcome_of

Cell = LedgerCell

_KIND_LABELS = dict(KINDS)
_CONSULTATIONS = {
    "consult_third_party": "third_party_replied",
    "consult_agency": "agency_replied",
}


@dataclass(frozen=True)
class ExportRecord:
    """What the export knows of one request besides its events."""

    request: Request
    events: Sequence[Event]
    agency: Agency
    handler: str
    notices: Sequence[Notice]
    challenges: Sequence[Challenge]


def _first(events: Iterable[Event], trigger: str) -> Event | None:
    return next((e for e in events if e.trigger == trigger), None)


def _days(events: Iterable[Event], trigger: str) -> str:
    return "；".join(e.effective_date.isoformat() for e in events if e.trigger == trigger)


def ledger_cells(req: Request, events: Sequence[Event], agency_code: str) -> dict[str, Cell]:
    """The ledger columns of ``req``, as the import reads them back into the same counts.

    ``ref`` is the ledger ref an imported request kept, else its tracking number, so a
    re-import keys the same request the same way (the import refuses a ref twice).
    """
    ordered = sorted(events, key=lambda e: e.seq)
    cells: dict[str, Cell] = dict.fromkeys(COLUMN_NAMES)
    cells.update(
        agency=agency_code,
        ref=req.external_ref or req.tracking_no,
        applicant_name=req.applicant_name,
        applicant_kind=req.applicant_kind,
        channel=req.channel,
        received_on=req.received_on,
        subject=req.subject,
    )
    conclusion = next((e for e in ordered if outcome_of(e) is not None), None)
    counted = ordered if conclusion is None else ordered[: ordered.index(conclusion) + 1]
    if conclusion is not None:
        cells["concluded_on"] = conclusion.effective_date
        cells["outcome"] = WITHDRAWN if conclusion.trigger == "withdraw" else outcome_of(conclusion)
    asked = [e for e in counted if e.trigger == "request_supplement"]
    supplied = [e for e in counted if e.trigger == "receive_supplement"]
    if asked:
        lapsed = cells["outcome"] == "other.supplement_lapsed"
        # A lapse answers the last request; any other history starts at the first.
        cells["supplement_requested_on"] = (asked[-1] if lapsed else asked[0]).effective_date
        if supplied and not lapsed:
            cells["supplement_received_on"] = supplied[-1].effective_date
    extension = _first(counted, "extend")
    # The ledger has no consultation columns: an extension after a pause may have been in
    # time only because the pause stopped the clock, and replayed without it would fall
    # after the reply deadline (Art. 33 para 2 refuses it). Such an extension stays in the
    # record column 延期 only; no statistic counts extensions.
    before = counted[: counted.index(extension)] if extension is not None else []
    if extension is not None and not any(e.trigger in _CONSULTATIONS for e in before):
        cells["extended_on"] = extension.effective_date
        cells["extension_approver"] = str(extension.payload.get("approver") or "")
    fee = _first(counted, "issue_fee_notice")
    if fee is not None and fee.payload.get("amount") and fee.payload.get("method"):
        # A notice imported without amount or method (the ledger only implied it) stays
        # implied: the import records it again the same way, counting no fee.
        cells["fee_notice_on"] = fee.effective_date
        cells["fee_amount"] = int(fee.payload["amount"])
        cells["fee_method"] = str(fee.payload["method"])
        paid = _first(counted, "fee_paid")
        cells["fee_paid_on"] = paid.effective_date if paid is not None else None
    if any(e.trigger == "void" for e in ordered):
        cells["voided"] = "yes"
    return cells


def _consultations(events: Sequence[Event]) -> str:
    parts = []
    for index, event in enumerate(events):
        reply_trigger = _CONSULTATIONS.get(event.trigger)
        if reply_trigger is None:
            continue
        reply = _first(events[index + 1 :], reply_trigger)
        answered = f"，{reply.effective_date.isoformat()}答复" if reply else "，未答复"
        parts.append(
            f"{TRIGGER_LABELS[event.trigger]} {event.effective_date.isoformat()}{answered}"
        )
    return "；".join(parts)


def _notices(notices: Sequence[Notice]) -> tuple[str, str]:
    numbers = "；".join(f"{NOTICE_KIND_BY_CODE[n.kind].label}：{n.number}" for n in notices)
    served = "；".join(
        f"{NOTICE_KIND_BY_CODE[n.kind].label} {n.served_on.isoformat()}"
        for n in notices
        if n.served_on is not None
    )
    return numbers, served


def _challenges(challenges: Sequence[Challenge]) -> str:
    return "；".join(
        f"{_KIND_LABELS.get(c.kind, c.kind)} {c.case_no}（{c.filed_on.isoformat()}，{c.body}）"
        for c in challenges
    )


def _outcome_label(events: Sequence[Event]) -> str:
    codes = [code for code in (outcome_of(e) for e in events) if code]
    return "；".join(OUTCOME_BY_CODE[c].short for c in codes)


#: The record columns after the ledger's: header → what the cell holds. The headers are
#: ``workflow.ledger.reader.EXPORT_ONLY_HEADERS`` (the reader skips them on import).
RECORD_COLUMNS: tuple[tuple[str, Callable[[ExportRecord], Cell]], ...] = (
    ("申请编号", lambda r: r.request.tracking_no),
    ("机关名称", lambda r: r.agency.name),
    ("申请人类型名称", lambda r: KIND_BY_CODE[r.request.applicant_kind].label),
    ("提交方式名称", lambda r: CHANNEL_BY_CODE[r.request.channel].label),
    ("证件号码", lambda r: r.request.id_number),
    ("联系电话", lambda r: r.request.phone),
    ("通信地址", lambda r: r.request.address),
    ("提交日期", lambda r: r.request.submitted_at.date()),
    ("受理日期", lambda r: _days(r.events, "accept")),
    ("告知补正", lambda r: _days(r.events, "request_supplement")),
    ("收到补正", lambda r: _days(r.events, "receive_supplement")),
    ("征求意见", lambda r: _consultations(r.events)),
    ("延期", lambda r: _days(r.events, "extend")),
    ("缴费", lambda r: _days(r.events, "fee_paid")),
    ("答复（决定）日期", lambda r: _days(r.events, "decide")),
    ("全部处理结果", lambda r: _outcome_label(r.events)),
    ("重新办理", lambda r: _days(r.events, "reopen")),
    ("当前状态", lambda r: State(r.request.state).label),
    ("承办人", lambda r: r.handler),
    ("文书号", lambda r: _notices(r.notices)[0]),
    ("送达日期", lambda r: _notices(r.notices)[1]),
    ("复议诉讼", lambda r: _challenges(r.challenges)),
)
assert tuple(h for h, _ in RECORD_COLUMNS) == EXPORT_ONLY_HEADERS, "reader and export disagree"


def header() -> list[str]:
    """The export's first row: the import template's headers, then the record columns."""
    return [header_cell(c) for c in LEDGER_COLUMNS] + [h for h, _ in RECORD_COLUMNS]


def export_rows(session: Session, requests: Sequence[Request]) -> list[list[Cell]]:
    """One row per request (in the order given), in five statements whatever the count."""
    ids = [r.id for r in requests]
    events = histories(session, ids)
    agencies = {
        a.id: a
        for a in session.scalars(
            select(Agency).where(Agency.id.in_({r.agency_id for r in requests}))
        )
    }
    handler_ids = {r.handler_id for r in requests if r.handler_id}
    handlers = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(handler_ids))).all()
    )
    notices: dict[int, list[Notice]] = {i: [] for i in ids}
    for notice in session.scalars(
        select(Notice).where(Notice.request_id.in_(ids)).order_by(Notice.dated_on, Notice.id)
    ):
        notices[notice.request_id].append(notice)
    challenges: dict[int, list[Challenge]] = {i: [] for i in ids}
    for case in session.scalars(
        select(Challenge).where(Challenge.request_id.in_(ids)).order_by(Challenge.filed_on)
    ):
        challenges[case.request_id].append(case)
    rows: list[list[Cell]] = []
    for req in requests:
        record = ExportRecord(
            req,
            events[req.id],
            agencies[req.agency_id],
            handlers.get(req.handler_id, "") if req.handler_id else "",
            notices[req.id],
            challenges[req.id],
        )
        cells = ledger_cells(req, record.events, record.agency.code)
        rows.append([cells[name] for name in COLUMN_NAMES] + [f(record) for _, f in RECORD_COLUMNS])
    return rows

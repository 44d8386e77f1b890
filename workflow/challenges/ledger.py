"""The ledger of reconsideration and litigation cases (docs/domain.md §11), read and replayed.

Agencies keep their 复议/诉讼 cases in a spreadsheet beside the request ledger. Each row
is replayed through ``workflow.challenges.operations`` exactly as a legal officer would record
it on the pages — file, then conclude when a conclusion date is given — so the same
guards apply, the same log is written, a result ordering a new reply reopens the request,
and table 四 counts imported cases like typed ones.

The reading, header check, error type, transaction handling and report are the request
ledger's (``workflow.ledger.reader`` / ``workflow.ledger.importer``; the command is
``commands.challenge_ledger``), so both imports behave the same: all or nothing, every
bad row reported as ``第N行 [column] reason``, a dry run stores nothing.

Columns (a contract: extend, never rename): agency, request_ref (the request's ``ref``
in the request ledger), kind, route, filed_on, body, case_no, concluded_on, result; and
two optional extensions: instance (审级, default 一审 / 复议) and prior_case_no (the
reconsideration a 复议后起诉 follows; if empty, the request's latest decided one).
Codes or their Chinese labels are accepted; result also takes the bare table 四 columns
(upheld / corrected / other, 维持 / 纠正 / 其他).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Challenge, Request
from workflow.catalog.challenges import (
    AFTER_RECONSIDERATION,
    INSTANCES,
    KINDS,
    RECONSIDERATION,
    RESULT_BY_CODE,
    RESULTS,
    ROUTES,
)
from workflow.challenges.operations import challenge_history, file_challenge, fire_challenge
from workflow.challenges.spec import (
    CHALLENGES,
    ChallengeState,
    result_fits_kind,
    route_matches_kind,
)
from workflow.kernel.actor import Actor
from workflow.kernel.errors import DomainError
from workflow.kernel.guards import Guard, GuardContext
from workflow.kernel.payload import ParsedAction, parse_action
from workflow.ledger.importer import (
    ActorForAgency,
    ImportReport,
    Replay,
    agencies_by_code,
    all_or_nothing,
    row_errors,
    row_savepoint,
)
from workflow.ledger.reader import (
    IMPORT_NOTE,
    LedgerColumn,
    RawRow,
    RowError,
    parse_ledger_date,
    shape_errors,
)

FILE = CHALLENGES.by_trigger["file"]
CONCLUDE = CHALLENGES.by_trigger["conclude"]
#: Labels as on the pages' forms: the ledger and the form name a column the same way.
_LABELS = {f.name: f.label for f in (*FILE.fields, *CONCLUDE.fields)}

CHALLENGE_COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("agency", "机关代码", True),
    LedgerColumn("request_ref", "申请的本机关编号（申请台账的 ref）", True),
    LedgerColumn("kind", _LABELS["kind"], True),
    LedgerColumn("route", _LABELS["route"], False),
    LedgerColumn("filed_on", FILE.date_label, True),
    LedgerColumn("body", _LABELS["body"], True),
    LedgerColumn("case_no", _LABELS["case_no"], True),
    LedgerColumn("concluded_on", CONCLUDE.date_label, False),
    LedgerColumn("result", _LABELS["result"], False),
    LedgerColumn("instance", _LABELS["instance"], False),
    LedgerColumn("prior_case_no", _LABELS["prior_case_no"], False),
)
COLUMN_BY_NAME: dict[str, LedgerColumn] = {c.name: c for c in CHALLENGE_COLUMNS}
#: The column a replayed step's date (and any refusal without a field) is reported on.
COLUMN_OF_STEP = {"file": "filed_on", "conclude": "concluded_on"}
#: The table 四 columns as a clerk writes them; used when no detailed result matches.
_COLUMN_WORDS = {"维持": "upheld", "纠正": "corrected", "其他": "other"}


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class ChallengeRow:
    """One valid ledger row, typed; labels resolved to codes."""

    line: int
    agency: str
    request_ref: str
    kind: str
    route: str | None
    filed_on: date
    body: str
    case_no: str
    instance: str | None = None
    prior_case_no: str = ""
    concluded_on: date | None = None
    result: str | None = None


def code_from_cell(text: str, pairs: Iterable[tuple[str, str]]) -> str | None:
    """A code given as itself (any case) or as its Chinese label; None if neither."""
    value = text.strip()
    for code, label in pairs:
        if value.lower() == code or value == label:
            return code
    return None


def result_from_cell(text: str, kind: str) -> str | None:
    """A result code, a detailed result's label (of a result fitting ``kind``), or a bare
    table 四 column (“维持” for a lawsuit is the column, not 复议维持)."""
    value = text.strip()
    if value.lower() in RESULT_BY_CODE:
        return value.lower()
    fitting = [(r.code, r.label) for r in RESULTS if r.kind in (None, kind)]
    return code_from_cell(value, fitting) or _COLUMN_WORDS.get(value)


def _guard_reason(guard: Guard, today: date, **context: Any) -> str | None:
    """Ask one of the lifecycle's payload guards about a row before replaying it.

    The rule stays defined once (``workflow.challenges.spec``), and its refusal is
    reported on the ledger column it is about instead of on the step's date.
    """
    ctx = GuardContext("new", None, (), frozenset(), today, **context)
    return guard(ctx)


def validate_challenge_rows(
    raw_rows: Iterable[RawRow], today: date
) -> tuple[list[ChallengeRow], list[RowError]]:
    """Check every row; return the valid ones and every problem, all at once.

    A case appearing twice (same agency, request, kind and case number) is reported on
    the later line, naming the first: it would count twice in table 四.
    """
    rows: list[ChallengeRow] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, ...], int] = {}
    for raw in raw_rows:
        row, row_errors_ = validate_challenge_row(raw, today)
        cells = raw.cells
        key = tuple(cells.get(n, "").strip() for n in ("agency", "request_ref", "kind", "case_no"))
        if all(key):
            if key in first_line:
                row_errors_.append(
                    RowError(raw.line, "case_no", f"案号“{key[3]}”与第{first_line[key]}行重复")
                )
            else:
                first_line[key] = raw.line
        if row_errors_:
            errors.extend(row_errors_)
        elif row is not None:
            rows.append(row)
    return rows, sorted(errors)


def validate_challenge_row(raw: RawRow, today: date) -> tuple[ChallengeRow | None, list[RowError]]:
    """One row's cells and cross-column rules; the row is ``None`` when anything is wrong."""
    cells = {k: v.strip() for k, v in raw.cells.items()}
    errors: list[RowError] = shape_errors(raw, CHALLENGE_COLUMNS)

    def fail(column: str, reason: str) -> None:
        errors.append(RowError(raw.line, column, reason))

    codes: dict[str, str | None] = {}
    for name, pairs in (("kind", KINDS), ("route", ROUTES), ("instance", INSTANCES)):
        codes[name] = None
        if cells.get(name):
            codes[name] = code_from_cell(cells[name], pairs)
            if codes[name] is None:
                choices = "、".join(f"{code}（{label}）" for code, label in pairs)
                fail(
                    name, f"无法识别的{COLUMN_BY_NAME[name].label}“{cells[name]}”，可填：{choices}"
                )
    kind, route = codes["kind"], codes["route"]
    if kind and (reason := _guard_reason(route_matches_kind, today, payload=codes)):
        fail("route", reason)

    dates: dict[str, date | None] = {}
    for name in ("filed_on", "concluded_on"):
        dates[name] = None
        if not cells.get(name):
            continue
        try:
            day = parse_ledger_date(cells[name])
        except ValueError as exc:
            fail(name, str(exc))
            continue
        if day > today:
            label = COLUMN_BY_NAME[name].label
            fail(name, f"{label}（{cells[name]}）不能晚于今天（{today.isoformat()}）")
        dates[name] = day
    filed, concluded = dates["filed_on"], dates["concluded_on"]
    if filed and concluded and concluded < filed:
        fail(
            "concluded_on",
            f"{COLUMN_BY_NAME['concluded_on'].label}（{concluded.isoformat()}）不能早于"
            f"{COLUMN_BY_NAME['filed_on'].label}（{filed.isoformat()}）",
        )

    result: str | None = None
    if cells.get("result") and kind:
        result = result_from_cell(cells["result"], kind)
        if result is None:
            fail("result", f"无法识别的审理结果“{cells['result']}”，请填写结果代码或名称")
        elif reason := _guard_reason(
            result_fits_kind, today, payload={"result": result}, facts={"kind": kind}
        ):
            fail("result", reason)
    if cells.get("concluded_on") and not cells.get("result"):
        fail("result", "填写了审结日期（concluded_on），必须同时填写审理结果")
    if cells.get("result") and not cells.get("concluded_on"):
        fail("result", "填写了审理结果但没有审结日期（concluded_on）；尚未审结的请留空审理结果")

    if errors or kind is None or filed is None:
        return None, errors
    return (
        ChallengeRow(
            line=raw.line,
            agency=cells["agency"],
            request_ref=cells["request_ref"],
            kind=kind,
            route=route,
            filed_on=filed,
            body=cells["body"],
            case_no=cells["case_no"],
            instance=codes["instance"],
            prior_case_no=cells.get("prior_case_no", ""),
            concluded_on=concluded,
            result=result,
        ),
        [],
    )


# --------------------------------------------------------------------------- replay


#: Who records a case ledger's rows for an agency that has no legal officer yet: the
#: system, named after the command, as ``import-ledger`` does (docs/domain.md §11.1) —
#: an agency adopting the system brings its ledgers before it has accounts.
SYSTEM_RECORDER = "import-challenges"


def default_legal_actor(session: Session, agency: Agency) -> Actor:
    """Without ``--as``: the system named after the command, in the legal officer's role
    (only legal officers record cases, docs/domain.md §1), as ``import-ledger`` records as
    itself — so no colleague is named for what they never did."""
    return Actor(None, SYSTEM_RECORDER, agency.id, frozenset({"legal"}))


@dataclass
class ChallengeImportReport(ImportReport):
    """The request import's report, plus what only cases do."""

    states: type[ChallengeState] = ChallengeState
    #: Requests reopened because a result ordered a new reply.
    reopened: int = 0
    #: Rows stored with a warning (a direct lawsuit against a refusal since 2024).
    warnings: list[RowError] = field(default_factory=list)


def import_challenges(
    session: Session,
    rows: Sequence[ChallengeRow],
    actor_for_agency: ActorForAgency,
    now: datetime,
    dry_run: bool = False,
    *,
    prior_errors: Iterable[RowError] = (),
    total_rows: int | None = None,
    provenance: Mapping[str, str] | None = None,
) -> ChallengeImportReport:
    """Replay ``rows`` in filing order; keep them only if no row (and no prior error) failed.

    ``provenance`` (``ImportSource.provenance``: who imported which file, its SHA-256) is
    recorded on every event as ``payload["imported"]``, as the request ledger's are.

    Filing order (not file order) lets a 复议后起诉 follow the reconsideration it names
    wherever the two rows stand in the spreadsheet; errors keep their line numbers.
    """
    errors = list(prior_errors)
    total = total_rows if total_rows is not None else len(rows) + len({e.line for e in errors})
    report = ChallengeImportReport(rows=total, dry_run=dry_run)
    replay = _Replay(
        session=session,
        actor_for_agency=actor_for_agency,
        now=now,
        agencies=agencies_by_code(session, {r.agency for r in rows}),
        errors=errors,
        report=report,
        provenance=dict(provenance) if provenance else None,
    )
    with all_or_nothing(session, errors, dry_run):
        for row in sorted(rows, key=lambda r: (r.filed_on, r.line)):
            replay.row(row)
    report.errors = sorted(errors)
    report.warnings.sort()
    return report


@dataclass(kw_only=True)
class _Replay(Replay):
    """The challenge ledger's replay; counts go straight into the report."""

    report: ChallengeImportReport
    provenance: dict[str, str] | None = None

    def _action(self, trigger: str, raw: dict[str, Any]) -> ParsedAction:
        """The row's step parsed as its form would be, marked as imported from the file."""
        action = parse_action(CHALLENGES.by_trigger[trigger], raw)
        if self.provenance is None:
            return action
        return ParsedAction(action.effective_date, {**action.payload, "imported": self.provenance})

    def row(self, row: ChallengeRow) -> None:
        """Look up what the row names, then replay it in its own SAVEPOINT."""
        agency = self.agencies.get(row.agency)
        if agency is None:
            self.refuse(row.line, "agency", f"机关代码“{row.agency}”不存在")
            return
        request = self.session.scalar(
            select(Request).where(
                Request.agency_id == agency.id, Request.external_ref == row.request_ref
            )
        )
        if request is None:
            self.refuse(
                row.line,
                "request_ref",
                f"机关“{row.agency}”没有编号为“{row.request_ref}”的申请"
                "（请先用 import-ledger 导入申请台账）",
            )
            return
        if self._already_recorded(request, row):
            self.refuse(row.line, "case_no", f"案号“{row.case_no}”已登记过（该申请已有此案件）")
            return
        actor = self.actor(agency)
        if isinstance(actor, DomainError):
            self.refuse(row.line, "agency", str(actor))
            return
        prior = row.prior_case_no
        if row.route == AFTER_RECONSIDERATION and not prior:
            prior = self._latest_decided_reconsideration(request) or ""
            if not prior:
                self.refuse(
                    row.line,
                    "route",
                    "复议后起诉须有该申请已审结的行政复议：系统中没有，本台账中也没有导入成功的；"
                    "请导入该复议（或改正它所在的行），或在 prior_case_no 列填写复议案号",
                )
                return
        self._replay(row, request, actor, prior)

    def _replay(self, row: ChallengeRow, request: Request, actor: Actor, prior: str) -> None:
        step = "file"
        state_before = request.state
        try:
            with row_savepoint(self.session):
                case = file_challenge(
                    self.session,
                    actor,
                    self.now,
                    request,
                    self._action(
                        "file",
                        {
                            "effective_date": row.filed_on.isoformat(),
                            "kind": row.kind,
                            "route": row.route or "",
                            "body": row.body,
                            "case_no": row.case_no,
                            "instance": row.instance or "",
                            "prior_case_no": prior,
                        },
                    ),
                )
                if row.concluded_on is not None:
                    step = "conclude"
                    fire_challenge(
                        self.session,
                        case,
                        "conclude",
                        actor,
                        self.now,
                        self._action(
                            "conclude",
                            {
                                "effective_date": row.concluded_on.isoformat(),
                                "result": row.result,
                                "note": IMPORT_NOTE,
                            },
                        ),
                    )
        except DomainError as exc:
            self.errors.extend(
                row_errors(
                    row.line,
                    exc,
                    column=COLUMN_OF_STEP[step],
                    step=CHALLENGES.by_trigger[step].label,
                    columns=COLUMN_BY_NAME,
                )
            )
            return
        self.report.imported += 1
        self.report.by_state[case.state] += 1
        if request.state != state_before:  # only a reopening changes the request
            self.report.reopened += 1
        warning = challenge_history(self.session, case)[0].payload.get("warning")
        if warning:
            self.report.warnings.append(RowError(row.line, "route", f"提示：{warning}"))

    def _already_recorded(self, request: Request, row: ChallengeRow) -> bool:
        """The same case already stored: a ledger is imported once, never merged."""
        found = self.session.scalar(
            select(Challenge.id).where(
                Challenge.request_id == request.id,
                Challenge.kind == row.kind,
                Challenge.case_no == row.case_no,
                Challenge.state != ChallengeState.VOIDED.value,
            )
        )
        return found is not None

    def _latest_decided_reconsideration(self, request: Request) -> str | None:
        return self.session.scalar(
            select(Challenge.case_no)
            .where(
                Challenge.request_id == request.id,
                Challenge.kind == RECONSIDERATION,
                Challenge.state == ChallengeState.CONCLUDED.value,
            )
            .order_by(Challenge.filed_on.desc(), Challenge.id.desc())
            .limit(1)
        )

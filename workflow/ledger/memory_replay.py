"""``operations.register`` / ``fire`` and ``challenge_ops`` without a database.

A bulk load (the ledger import, the benchmark generator) replays thousands of requests a
second: it cannot afford a flush, a history query and a projection write per action.
It runs the same pure domain functions the operations call instead — intake and payload
parsing, the one state machine with its guards, the deadline clocks and lateness, the
``request_facts`` projection — on plain rows in memory, and ``workflow.store.bulk_writer``
writes the result in a few statements per thousand requests.

Each method mirrors its counterpart in ``workflow.requests.operations`` /
``workflow.challenges.operations`` step for step (same parsing, guards, deadlines and
payloads).
``tests/integration/test_bench_generator.py`` and ``test_ledger_bulk.py`` keep the
mirror honest: both write paths must produce identical rows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from workflow.catalog.challenges import RECONSIDERATION, REMAND, RESULT_BY_CODE
from workflow.catalog.states import State
from workflow.challenges import operations as challenge_ops
from workflow.challenges.order_effect import waits_for_appeal_period
from workflow.challenges.spec import CHALLENGES, ChallengeState, instance_after
from workflow.challenges.standing import own_deadline_span
from workflow.kernel.actor import LOCAL_ZONE, Actor, local_today, naive_utc
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import PermissionDenied, ValidationError
from workflow.kernel.lifecycle import Transition
from workflow.kernel.payload import ParsedAction, parse_action
from workflow.requests import machine, search_text
from workflow.requests import operations as ops
from workflow.requests.deadlines import compute_deadlines, lateness
from workflow.requests.fee_rules import fee_facts
from workflow.requests.intake import parse_intake
from workflow.requests.spec import SPEC_BY_TRIGGER

#: Column defaults the ORM fills in for a new request (``models.request.Request``).
REQUEST_DEFAULTS: dict[str, Any] = {
    "external_ref": None,
    "id_type": "",
    "id_number": "",
    "phone": "",
    "email": "",
    "address": "",
    "legal_representative": "",
    "contact_person": "",
    "doc_numbers": "",
    "form_wanted": "",
    "delivery_wanted": "",
}


@dataclass
class Lifeline:
    """What the state machine needs of a request or a case: a state and a start date."""

    state: str
    received_on: date | None = None
    filed_on: date | None = None


@dataclass(frozen=True)
class MemEvent:
    """An event row before it has an id (also what deadlines and guards read)."""

    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    effective_date: date
    actor_id: int | None
    payload: dict[str, Any]


@dataclass
class MemCase:
    row: Lifeline
    kind: str
    route: str | None
    body: str
    case_no: str
    instance: str
    prior: int | None
    events: list[MemEvent] = field(default_factory=list)
    version: int = 1
    agency_due_first: date | None = None
    agency_due_last: date | None = None


@dataclass
class MemRequest:
    """One replayed request: its columns, events, projection row and cases (no ids yet).

    ``columns`` and ``facts`` are complete once :meth:`MemoryReplay.finish` has run.
    """

    agency_id: int
    year: int
    row: Lifeline
    columns: dict[str, Any]
    events: list[MemEvent] = field(default_factory=list)
    cases: list[MemCase] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


class MemoryReplay:
    """Replays actions on in-memory requests exactly as the operations would record them.

    ``approvers`` are the (agency id, username) pairs that may be named as approving an
    extension, as ``operations.fire`` checks against the users table; ``None`` when the
    approver is a name the source records rather than an account (a ledger's
    ``extension_approver``, docs/domain.md §11.2). ``provenance``, when given, is added
    to every event's payload as ``imported`` (the file an import replays).
    """

    def __init__(
        self,
        now: datetime,
        calendar: WorkingCalendar,
        *,
        approvers: Collection[tuple[int, str]] | None = (),
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        self.now = now
        self.today = local_today(now)
        self.calendar = calendar
        self.approvers = None if approvers is None else frozenset(approvers)
        self.provenance = dict(provenance) if provenance else None
        search_text.prepare()  # the projection's words; forked replayers inherit it

    # -- requests (operations.register / fire / _apply)

    def register(self, actor: Actor, agency_id: int, raw: Mapping[str, Any]) -> MemRequest:
        if agency_id != actor.agency_id:
            raise PermissionDenied("只能为本机关登记申请")
        intake = parse_intake(raw, self.today)
        values = dict(intake.values)
        values.pop("submitted_on", None)
        values.pop("received_on", None)
        submitted_at = (
            naive_utc(self.now)
            if intake.submitted_on == self.today
            else datetime.combine(intake.submitted_on, time(0), LOCAL_ZONE).astimezone(UTC)
        )
        columns = {
            **REQUEST_DEFAULTS,
            **values,
            "submitted_at": naive_utc(submitted_at),
            "received_on": intake.received_on,
            "handler_id": actor.user_id if "handler" in actor.roles else None,
        }
        mem = MemRequest(
            agency_id,
            intake.received_on.year,
            Lifeline(State.NEW.value, received_on=intake.received_on),
            columns,
        )
        action = ParsedAction(
            intake.received_on, {**intake.values, "receipt_rule": intake.receipt_note}
        )
        self._apply(mem, "register", actor, action)
        return mem

    def fire(
        self,
        mem: MemRequest,
        trigger: str,
        actor: Actor,
        raw: Mapping[str, Any] | ParsedAction,
    ) -> None:
        action = (
            raw if isinstance(raw, ParsedAction) else parse_action(SPEC_BY_TRIGGER[trigger], raw)
        )
        approver = action.payload.get("approver")
        if (
            approver is not None
            and self.approvers is not None
            and (mem.agency_id, approver) not in self.approvers
        ):
            raise ValidationError(
                "批准人须为本机关的审核人", {"approver": f"“{approver}”不是本机关的审核人"}
            )
        self._apply(mem, trigger, actor, action)

    def finish(self, mem: MemRequest) -> MemRequest:
        """The request's final columns and projection row, after its last action."""
        mem.columns["state"] = mem.row.state
        mem.columns["last_seq"] = len(mem.events)
        mem.columns["version"] = len(mem.events)
        assert mem.row.received_on is not None
        mem.facts = ops.projection_values(
            mem.row.received_on,
            mem.events,
            self.calendar,
            subject=mem.columns["subject"],
            applicant_name=mem.columns["applicant_name"],
        )
        return mem

    def _payload(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(payload)
        if self.provenance is not None:
            out["imported"] = self.provenance
        return out

    def _apply(self, mem: MemRequest, trigger: str, actor: Actor, action: ParsedAction) -> None:
        if actor.agency_id != mem.agency_id:
            raise PermissionDenied("只能办理本机关的申请")
        row, events = mem.row, mem.events
        assert row.received_on is not None
        deadlines = (
            compute_deadlines(row.received_on, events, self.calendar, self.today)
            if events
            else None
        )
        payload = self._payload(action.payload)
        late = lateness(trigger, action.effective_date, deadlines) if deadlines else None
        if late:
            payload["late"] = late
        # A per-page fee is computed as the operations compute it; the per-request count
        # needs the applicant's other requests, so a ledger's amount stands as recorded.
        facts = fee_facts(payload, None) if trigger == "issue_fee_notice" else {}

        def sink(transition: Transition) -> MemEvent:
            return MemEvent(
                len(events) + 1,
                transition.trigger,
                transition.from_state,
                transition.to_state,
                action.effective_date,
                actor.user_id,
                payload,
            )

        event = machine.fire(
            row,
            trigger,
            sink=sink,
            roles=actor.roles,
            today=self.today,
            effective_date=action.effective_date,
            payload=payload,
            history=events,
            deadlines=deadlines,
            facts=facts,
        )
        events.append(event)

    # -- challenges (challenge_ops.file_challenge / fire_challenge)

    def file(self, mem: MemRequest, actor: Actor, raw: Mapping[str, Any]) -> MemCase:
        request, cases = mem.row, mem.cases
        action = parse_action(CHALLENGES.by_trigger["file"], raw)
        payload = dict(action.payload)
        prior_no = (payload.get("prior_case_no") or "").strip()
        prior = next(
            (
                i
                for i, c in enumerate(cases)
                if prior_no
                and c.kind == RECONSIDERATION
                and c.case_no == prior_no
                and c.row.state != ChallengeState.VOIDED.value
            ),
            None,
        )
        facts = {
            "request_state": request.state,
            "request_received_on": request.received_on,
            "prior_status": None
            if prior is None
            else ("concluded" if cases[prior].row.state == "concluded" else "open"),
        }
        warning = challenge_ops.refusal_warning(mem.events, payload)
        if warning:
            payload["warning"] = warning
        case = MemCase(
            Lifeline(ChallengeState.NEW.value, filed_on=action.effective_date),
            kind=payload["kind"],
            route=payload.get("route"),
            body=payload["body"],
            case_no=payload["case_no"],
            instance=payload.get("instance")
            or ("reconsideration" if payload["kind"] == RECONSIDERATION else "first"),
            prior=prior,
        )
        self._apply_case(case, "file", actor, ParsedAction(action.effective_date, payload), facts)
        cases.append(case)
        return case

    def fire_case(
        self,
        mem: MemRequest,
        case: MemCase,
        trigger: str,
        actor: Actor,
        raw: Mapping[str, Any],
    ) -> None:
        action = parse_action(CHALLENGES.by_trigger[trigger], raw)
        if trigger == "remand":  # as the operations: the result it records
            action = ParsedAction(action.effective_date, {**action.payload, "result": REMAND.code})
        self._apply_case(case, trigger, actor, action, {"kind": case.kind})
        case.version += 1
        if trigger == "conclude":
            result = RESULT_BY_CODE[action.payload["result"]]
            waits = waits_for_appeal_period(case.kind, case.instance)  # as the operations
            if result.orders_new_reply and mem.row.state == "concluded" and not waits:
                order = f"{case.body}{case.case_no}：{result.label}"
                reopen = {"effective_date": action.effective_date.isoformat(), "order": order[:200]}
                self.fire(mem, "reopen", actor, reopen)

    def _apply_case(
        self,
        case: MemCase,
        trigger: str,
        actor: Actor,
        action: ParsedAction,
        facts: dict[str, Any],
    ) -> None:
        def sink(transition: Transition) -> MemEvent:
            return MemEvent(
                len(case.events) + 1,
                transition.trigger,
                transition.from_state,
                transition.to_state,
                action.effective_date,
                actor.user_id,
                self._payload(action.payload),
            )

        event = CHALLENGES.fire(
            case.row,
            trigger,
            sink=sink,
            roles=actor.roles,
            today=self.today,
            effective_date=action.effective_date,
            payload=action.payload,
            history=case.events,
            facts=facts,
        )
        case.events.append(event)
        if trigger in ("appeal", "remand"):  # as the operations, in the same one write
            case.instance = instance_after(action.payload)
            case.body = action.payload["body"]
            case.case_no = action.payload["case_no"]
        assert case.row.filed_on is not None
        case.agency_due_first, case.agency_due_last = own_deadline_span(
            case.kind, case.instance, case.row.state, case.row.filed_on, case.events, self.calendar
        )

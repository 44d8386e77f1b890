"""Appending to an append-only event log, shared by requests and challenges.

The lifecycle machinery hands each transition to a *sink*; the sink made here writes the
next event row of the owner (a request or a challenge) in the same flush as its new state,
linked into the owner's hash chain (``workflow.kernel.chain``): the new event's ``hash``
covers its columns and the owner's previous head (``log_hash``), which it then becomes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.event import ChallengeEvent, EventColumns, chain_algorithm
from workflow.kernel import chain
from workflow.kernel.actor import Actor, naive_utc
from workflow.kernel.errors import ConflictError
from workflow.kernel.lifecycle import Sink, Transition
from workflow.kernel.payload import ParsedAction


def log_sink(
    session: Session,
    row: Any,
    event_class: type[EventColumns],
    owner: str,
    action: ParsedAction,
    actor: Actor,
    now: datetime,
    payload: dict[str, Any],
) -> Sink:
    """The sink that appends ``row``'s next event (requests and challenges alike)."""

    def sink(transition: Transition) -> EventColumns:
        return append_event(
            session,
            row,
            event_class,
            owner,
            trigger=transition.trigger,
            from_state=transition.from_state,
            to_state=transition.to_state,
            effective_date=action.effective_date,
            recorded_at=naive_utc(now),
            actor_id=actor.user_id,
            payload=payload,
        )

    return sink


def append_event(
    session: Session, row: Any, event_class: type[EventColumns], owner: str, **columns: Any
) -> EventColumns:
    """Add ``row``'s next event: the next sequence number and the next link of its chain.

    Every writer of the log goes through here (state-machine steps and office entries),
    so no event is ever stored without its hash.
    """
    row.last_seq += 1
    columns = {"seq": row.last_seq, **columns}
    link = chain.event_link(chain_algorithm(), chain_kind(event_class), row.log_hash, **columns)
    event = event_class(**{owner: row}, **columns, hash=link)
    row.log_hash = link
    session.add(event)
    return event


def chain_kind(event_class: type[EventColumns]) -> str:
    """Which chain an event table's rows belong to: ``request`` or ``challenge``."""
    return "challenge" if issubclass(event_class, ChallengeEvent) else "request"


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a version clash (someone else changed the row first) becomes a ConflictError.

    ``message`` is built before the flush: after a failed flush the row can't be read.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(message) from exc

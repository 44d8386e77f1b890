"""Appending to an append-only event log, shared by requests and challenges.

The lifecycle machinery hands each transition to a *sink*; the sink made here writes the
next event row of the owner (a request or a challenge) in the same flush as its new state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.event import EventColumns
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
        row.last_seq += 1
        event = event_class(
            **{owner: row},
            seq=row.last_seq,
            trigger=transition.trigger,
            from_state=transition.from_state,
            to_state=transition.to_state,
            effective_date=action.effective_date,
            recorded_at=naive_utc(now),
            actor_id=actor.user_id,
            payload=payload,
        )
        session.add(event)
        return event

    return sink


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a version clash (someone else changed the row first) becomes a ConflictError.

    ``message`` is built before the flush: after a failed flush the row can't be read.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(message) from exc

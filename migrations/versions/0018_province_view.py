"""The reply facts of the supervisor's view in the projection: working days from receipt
to the reply (``request_facts.reply_days``) and whether the reply came late
(``request_facts.replied_late``), with an index for the per-agency table.

Existing rows are marked here from their events, in frozen SQL: a request whose first
concluding event (by effective date, then sequence) is a ``decide`` gets ``reply_days =
-1`` and ``replied_late`` from that event's ``late`` note. Working days need the calendar,
so ``init`` counts them after migrating (``workflow.requests.clocks.refresh_reply_days``
replaces every -1).

Revision ID: 0018
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The concluding triggers as of this revision (workflow.requests.spec.CONCLUDING_TRIGGERS).
_CONCLUDING = "('decide', 'fee_lapsed', 'supplement_lapsed', 'withdraw')"


def _first_conclusion(column: str) -> str:
    return (
        f"(SELECT {column} FROM events e WHERE e.request_id = request_facts.request_id "
        f"AND e.trigger IN {_CONCLUDING} ORDER BY e.effective_date, e.seq LIMIT 1)"
    )


def upgrade() -> None:
    op.add_column("request_facts", sa.Column("reply_days", sa.Integer(), nullable=True))
    op.add_column(
        "request_facts",
        sa.Column("replied_late", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_request_facts_supervision",
        "request_facts",
        ["agency_id", "concluded_on", "outcome", "reply_days", "replied_late", "voided"],
    )
    if op.get_bind().dialect.name == "postgresql":
        late = "e.payload::json ->> 'late'"
        true = "TRUE"
    else:
        late = "json_extract(e.payload, '$.late')"
        true = "1"
    op.execute(
        "UPDATE request_facts SET reply_days = -1 WHERE concluded_on IS NOT NULL "
        f"AND {_first_conclusion('e.trigger')} = 'decide'"
    )
    op.execute(
        f"UPDATE request_facts SET replied_late = {true} WHERE reply_days = -1 "
        f"AND COALESCE({_first_conclusion(late)}, '') <> ''"
    )


def downgrade() -> None:
    op.drop_index("ix_request_facts_supervision", table_name="request_facts")
    op.drop_column("request_facts", "replied_late")
    op.drop_column("request_facts", "reply_days")

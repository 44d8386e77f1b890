"""Two projections for the workbench (issue 19 item 4): each case's span of the agency's
own deadlines (``challenges.agency_due_first`` / ``agency_due_last``), and each request's
count of proposals waiting for an approver (``request_facts.open_proposals``), each with
an index by agency.

The proposal count is filled here in frozen SQL: every ``approve`` or ``reject`` answers
exactly one ``propose`` entry, so the open ones are the proposals less the answers. The
deadline span needs the working calendar and the remedy rules (live code), so ``init``
fills it after migrating (``workflow.challenges.due_dates.refresh_case_deadlines``), as
it counts the working days of migration 0018.

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(triggers: str) -> str:
    return (
        "(SELECT COUNT(*) FROM events e WHERE e.request_id = request_facts.request_id "
        f"AND e.trigger IN {triggers})"
    )


def upgrade() -> None:
    op.add_column("challenges", sa.Column("agency_due_first", sa.Date(), nullable=True))
    op.add_column("challenges", sa.Column("agency_due_last", sa.Date(), nullable=True))
    op.create_index("ix_challenges_agency_due", "challenges", ["agency_id", "agency_due_first"])
    op.add_column(
        "request_facts",
        sa.Column("open_proposals", sa.Integer(), nullable=False, server_default="0"),
    )
    proposed, answered = _count("('propose')"), _count("('approve', 'reject')")
    op.execute(
        f"UPDATE request_facts SET open_proposals = {proposed} - {answered} "
        "WHERE request_id IN (SELECT request_id FROM events WHERE trigger = 'propose')"
    )
    op.create_index(
        "ix_request_facts_agency_proposals", "request_facts", ["agency_id", "open_proposals"]
    )


def downgrade() -> None:
    op.drop_index("ix_request_facts_agency_proposals", "request_facts")
    op.drop_index("ix_challenges_agency_due", "challenges")
    op.drop_column("request_facts", "open_proposals")
    op.drop_column("challenges", "agency_due_last")
    op.drop_column("challenges", "agency_due_first")

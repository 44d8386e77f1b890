"""The committed lifecycle document is generated from the spec and must be current."""

from __future__ import annotations

from pathlib import Path

from workflow.requests.diagram import document, mermaid
from workflow.requests.spec import TRANSITIONS


def test_state_machine_document_is_current() -> None:
    committed = (Path(__file__).parents[2] / "docs" / "state-machine.md").read_text("utf-8")
    regenerate = "run: python -m workflow.requests.diagram > docs/state-machine.md"
    assert committed == document(), regenerate


def test_diagram_draws_every_trigger() -> None:
    drawn = mermaid()
    assert all(t.trigger in drawn for t in TRANSITIONS)

"""The lifecycle diagram and trigger table for ``docs/state-machine.md``, drawn from the spec.

``transitions`` draws the mermaid diagram from the same table the machine is built from;
a test fails when the committed document is stale. Regenerate with
``python -m workflow.requests.diagram > docs/state-machine.md``.
"""

from __future__ import annotations

from transitions.extensions.diagrams import GraphMachine

from workflow.catalog.roles import ROLE_BY_CODE
from workflow.catalog.states import State
from workflow.requests.spec import TRANSITIONS


class _Diagram:
    """A throwaway model: GraphMachine draws through its model."""


def mermaid() -> str:
    model = _Diagram()
    GraphMachine(
        model=model,
        states=[s.value for s in State],
        transitions=[
            {"trigger": t.trigger, "source": list(t.source_values), "dest": t.dest.value}
            for t in TRANSITIONS
        ],
        initial=State.NEW.value,
        auto_transitions=False,
        graph_engine="mermaid",
        title="请求生命周期",
    )
    return model.get_graph().draw(None).strip()  # type: ignore[attr-defined]


def document() -> str:
    lines = [
        "# 申请办理状态机（自动生成，请勿手改）",
        "",
        "Generated from `workflow/requests/spec.py` by `python -m workflow.requests.diagram`.",
        "",
        "```mermaid",
        mermaid(),
        "```",
        "",
        "| 状态 | state |",
        "|---|---|",
        *(f"| {s.label} | `{s.value}` |" for s in State),
        "",
        "| 操作 | trigger | 从 | 到 | 角色 | 法律规则 |",
        "|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        sources = "、".join(s.label for s in t.sources)
        roles = "、".join(ROLE_BY_CODE[r].label for r in sorted(t.roles))
        lines.append(
            f"| {t.label} | `{t.trigger}` | {sources} | {t.dest.label} | {roles} | {t.rule} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(document(), end="")

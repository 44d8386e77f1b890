"""The layers hold: the rules of ``docs/architecture.md`` checked on every module's imports."""

from __future__ import annotations

import pytest

from tools import layers
from tools.layers import Import


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return layers.all_imports()


def test_every_layer_imports_only_what_it_may(imports) -> None:
    assert layers.problems(imports) == []


def test_no_circle_of_modules(imports) -> None:
    assert layers.cycles(layers.graph(imports)) == []


def test_the_picture_in_architecture_md_is_current() -> None:
    assert layers.committed_section() == layers.section(), "run: python -m tools.layers --write"


def test_the_scan_sees_function_level_and_relative_imports(imports) -> None:
    """The rules are only as good as the scan: it must find imports wherever they are."""
    seen = {(i.importer, i.imported) for i in imports}
    # A function-level import (in ``app.create_app``) and ``from pkg import module``.
    assert ("app", "commands") in seen or ("app", "commands.main") in seen
    assert ("workflow.requests.operations", "workflow.requests.machine") in seen
    assert len({i.importer for i in imports}) > 100


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("workflow.requests.operations", "flask", "web layer"),
        ("workflow.notices.operations", "documents.notices_pdf", "web layer"),
        ("workflow.catalog.outcomes", "workflow.requests.spec", "bottom layer"),
        ("workflow.kernel.guards", "workflow.requests.deadlines", "kernel"),
        ("workflow.kernel.guards", "models", "kernel"),
        ("workflow.statistics.fold", "sqlalchemy.orm", "pure module"),
        ("models.request", "workflow.requests.deadlines", "models stand"),
        ("documents.report_pdf", "sqlalchemy.orm", "renderers"),
        ("migrations.versions.0008_stored_clocks", "workflow.requests.clocks", "frozen"),
    ],
)
def test_each_rule_refuses_what_it_forbids(importer, imported, rule) -> None:
    found = layers.problems([Import(importer, imported, 1, typing_only=False)])
    assert len(found) == 1 and rule in found[0]


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("workflow.requests.operations", "sqlalchemy.orm"),  # a database module
        ("workflow.kernel.payload", "workflow.catalog.outcomes"),
        ("models.request", "workflow.catalog.states"),
        ("documents.notices_pdf", "workflow.notices.document"),
        ("migrations.versions.0008_stored_clocks", "sqlalchemy"),
        ("views.requests", "workflow.requests.operations"),
    ],
)
def test_allowed_directions_pass(importer, imported) -> None:
    assert layers.problems([Import(importer, imported, 1, typing_only=False)]) == []


def test_cycles_are_found_and_typing_only_imports_do_not_make_one() -> None:
    edges = layers.graph(
        [
            Import("workflow.a", "workflow.b", 1, typing_only=False),
            Import("workflow.b", "workflow.c", 1, typing_only=False),
            Import("workflow.c", "workflow.a", 1, typing_only=False),
            Import("workflow.d", "workflow.a", 1, typing_only=False),
            Import("workflow.a", "workflow.d", 1, typing_only=True),
        ]
    )
    assert layers.cycles(edges) == [["workflow.a", "workflow.b", "workflow.c"]]

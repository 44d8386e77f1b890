"""The project's import graph, the layering rules over it, and the picture drawn from it.

``tests/unit/test_layering.py`` checks the rules on every module; the package diagram in
``docs/architecture.md`` (between the ``layers:begin``/``layers:end`` markers) is drawn
from the same graph and must be current. Regenerate it with
``python -m tools.layers --write``.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The project's own top-level packages and modules (everything else is a library).
OWN = (
    "app",
    "settings",
    "workflow",
    "models",
    "views",
    "commands",
    "documents",
    "jobs",
    "migrations",
)
SCANNED = ("app.py", "settings.py", "workflow", "models", "views", "commands", "documents", "jobs")
MIGRATIONS = "migrations"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- layers:begin -->", "<!-- layers:end -->"

#: Libraries of the web layer: the domain must run without them.
WEB_LIBRARIES = ("flask", "flask_login", "flask_wtf", "werkzeug", "wtforms", "jinja2")
#: Parts of those libraries that are plain utilities with no web in them (password hashing).
WEB_UTILITIES = ("werkzeug.security",)
#: What a migration may import: it carries its own frozen code and SQL.
MIGRATION_ALLOWED = ("alembic", "sqlalchemy", "migrations.append_only")

#: Modules of ``workflow`` that read or write the database; all others are pure (no
#: SQLAlchemy, no models). A new database module is added here on purpose.
DATABASE_MODULES = frozenset(
    {
        "workflow.store.calendar",
        "workflow.store.event_log",
        "workflow.store.serials",
        "workflow.requests.operations",
        "workflow.requests.fee_count",
        "workflow.requests.clocks",
        "workflow.requests.query",
        "workflow.requests.similar",
        "workflow.challenges.operations",
        "workflow.notices.operations",
        "workflow.statistics.queries",
        "workflow.statistics.challenges",
        "workflow.statistics.scope",
        "workflow.annual_report.report",
        "workflow.annual_report.publishing",
        "workflow.annual_report.archive",
        "workflow.ledger.importer",
        "workflow.ledger.staging",
        "workflow.ledger.export",
        "workflow.attachments.operations",
        "workflow.admin.agencies",
        "workflow.admin.operations",
        "workflow.admin.log_check",
        "workflow.admin.demo",
        "workflow.store.bulk_writer",
        "workflow.ledger.memory_replay",
        "workflow.online.portal",
        "workflow.online.resources",
        "workflow.online.tokens",
        "workflow.online.transfers",
        "workflow.online.follow_up",
        "workflow.challenges.order_effect",
        "workflow.challenges.ledger",
        "workflow.requests.lapse_queue",
        "workflow.requests.reminders",
        "workflow.challenges.agenda",
        "workflow.challenges.due_dates",
        "workflow.requests.reminder_mail",
        "workflow.store.rate_limits",
        "workflow.admin.security_log",
        "workflow.requests.office_operations",
        "workflow.statistics.supervision",
        "workflow.annual_report.tracker",
        "workflow.requests.search",
        "workflow.statistics.month_counts",
    }
)

#: Packages drawn in the picture, bottom to top.
DRAWN = (
    "workflow.catalog",
    "workflow.kernel",
    "workflow.store",
    "workflow.requests",
    "workflow.challenges",
    "workflow.notices",
    "workflow.statistics.fold",
    "workflow.annual_report.report",
    "workflow.ledger.reader",
    "workflow.admin",
    "models",
    "documents",
    "views",
    "commands",
    "jobs",
    "app",
    "settings",
)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    #: Under ``if TYPE_CHECKING:``: needed by the type checker only, never executed.
    typing_only: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> Iterator[Path]:
    for entry in (*SCANNED, MIGRATIONS):
        path = ROOT / entry
        if path.is_file():
            yield path
        else:
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def _typing_blocks(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[Import]:
    """Every import statement of a file, at any depth, resolved to absolute module names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text("utf-8"), str(path))
    typing_lines = _typing_blocks(tree)
    found: list[Import] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the submodule when there is one.
            targets = [
                f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names
            ]
        for target in targets:
            found.append(Import(name, target, node.lineno, node.lineno in typing_lines))
    return found


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_imports() -> list[Import]:
    return [i for path in project_files() for i in imports_of(path)]


def is_own(module: str) -> bool:
    return module.split(".")[0] in OWN


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def problems(imports: Iterable[Import]) -> list[str]:
    """Every import that breaks a layering rule, as ``importer:line imports x (rule)``."""
    found = []
    for i in imports:
        rule = _broken_rule(i)
        if rule:
            found.append(f"{i.importer}:{i.line} imports {i.imported} ({rule})")
    return found


def _broken_rule(i: Import) -> str | None:
    src, dst = i.importer, i.imported
    if within(src, "workflow"):
        web = (*WEB_LIBRARIES, "views", "commands", "documents", "app")
        web = (*web, "jobs")
        if any(within(dst, p) for p in web) and not any(within(dst, u) for u in WEB_UTILITIES):
            return "the domain runs without the web layer, the CLI and the renderers"
        if within(src, "workflow.catalog") and is_own(dst) and not within(dst, "workflow.catalog"):
            return "the catalogue is the bottom layer"
        kernel_may = ("workflow.kernel", "workflow.catalog")
        if (
            within(src, "workflow.kernel")
            and is_own(dst)
            and not any(within(dst, p) for p in kernel_may)
        ):
            return "the kernel stands on the catalogue only"
        if src not in DATABASE_MODULES and (within(dst, "sqlalchemy") or within(dst, "models")):
            return "a pure module (not in tools.layers.DATABASE_MODULES) touches the database"
    if within(src, "models") and is_own(dst):
        allowed = ("models", "workflow.kernel", "workflow.catalog", "settings")
        if not any(within(dst, p) for p in allowed):
            return "models stand on the kernel and the catalogue only"
    if within(src, "documents") and (
        within(dst, "sqlalchemy") or any(within(dst, p) for p in ("models", "views", "commands"))
    ):
        return "renderers only render: no session, no models"
    frozen = within(src, "migrations.versions") and is_own(dst)
    if frozen and not any(within(dst, p) for p in MIGRATION_ALLOWED):
        return "a migration carries its own frozen code"
    return None


def graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """Module → the project modules it imports when run (typing-only imports left out)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for i in imports:
        if is_own(i.imported) and not i.typing_only and i.imported != i.importer:
            edges[i.importer].add(i.imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _drawn(module: str) -> str | None:
    for package in sorted(DRAWN, key=len, reverse=True):
        if within(module, package):
            return package
    return None


def mermaid(edges: dict[str, set[str]]) -> str:
    """Package dependencies as a mermaid flowchart, arrows pointing at what is used."""
    pairs = {
        (a, b)
        for src, dsts in edges.items()
        for dst in dsts
        if (a := _drawn(src)) and (b := _drawn(dst)) and a != b
    }
    ids = {p: p.replace(".", "_") for p in DRAWN}
    lines = ["flowchart BT"]
    lines += [f'  {ids[p]}["{p}"]' for p in DRAWN]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(pairs)]
    return "\n".join(lines)


def section() -> str:
    """The generated part of ``docs/architecture.md``."""
    return "\n".join([BEGIN, "```mermaid", mermaid(graph(all_imports())), "```", END])


def committed_section() -> str:
    text = ARCHITECTURE.read_text("utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def write() -> None:
    text = ARCHITECTURE.read_text("utf-8")
    ARCHITECTURE.write_text(text.replace(committed_section(), section()), "utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(section())

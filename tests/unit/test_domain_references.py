"""The repository carries its own domain rules: ``docs/domain.md``, cited by section.

Code, templates and docs cite a rule as ``docs/domain.md §N`` or ``§N.M``. A citation of a
section that does not exist (renumbered, misspelt, never written) sends the reader nowhere,
so every citation in every tracked text file must name a heading of ``docs/domain.md``.
The first specification and design notes lived outside the repository; a reference to them
("SPEC §…", "SPEC.md", "DESIGN.md") cannot be followed by anyone who clones it, so none may
remain.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "docs" / "domain.md"
THIS_FILE = Path(__file__).resolve()

#: The text files whose citations are checked (by suffix, plus Makefiles).
TEXT_SUFFIXES = frozenset({".py", ".html", ".txt", ".md", ".sh"})
EXCLUDED_DIRS = frozenset({".venv", ".git"})

#: Top-level sections the numbering must keep (the code cites them since the first version).
TOP_LEVEL = tuple(str(n) for n in range(1, 22))

#: A section heading: ``## §3 …``, ``### §3.2 …``, ``#### §3.2.1 …``.
HEADING = re.compile(r"^#{2,4}[ \t]+§(\d+(?:\.\d+)*)(?=\s|$)")
#: A citation: ``docs/domain.md §6`` or ``domain.md §6.3``; a trailing full stop is not part
#: of the number (``§10.`` cites §10).
REFERENCE = re.compile(r"(?<![\w.-])(?:docs/)?domain\.md[ \t\u00a0]*§(\d+(?:\.\d+)*)")
#: References to documents that are not in the repository.
STALE = re.compile(r"SPEC §|SPEC\.md|DESIGN\.md")
FENCE = re.compile(r"^[ \t]*(```|~~~)")


class Hit(NamedTuple):
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def section_numbers(markdown: str) -> list[str]:
    """The section numbers of the headings, in order; headings inside code fences don't count."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            found.append(match[1])
    return found


def references(path: str, text: str) -> Iterator[Hit]:
    """Every ``domain.md §…`` citation in ``text``, with its line number."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in REFERENCE.finditer(line):
            yield Hit(path, number, match[1])


def stale_references(path: str, text: str) -> Iterator[Hit]:
    for number, line in enumerate(text.splitlines(), start=1):
        if STALE.search(line):
            yield Hit(path, number, line.strip()[:120])


def _listed_files() -> list[Path]:
    """The tracked files (git), or every file when the tree is not a git checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file()]
    return [ROOT / name for name in out.decode("utf-8").split("\0") if name]


def text_files() -> Iterator[tuple[str, str]]:
    """(relative path, text) of every tracked text file but this test (whose examples cite
    on purpose) and anything under .venv/.git."""
    for path in _listed_files():
        relative = path.relative_to(ROOT)
        if EXCLUDED_DIRS & set(relative.parts) or path.resolve() == THIS_FILE:
            continue
        if path.suffix not in TEXT_SUFFIXES and path.name != "Makefile":
            continue
        if path.is_file():
            yield relative.as_posix(), path.read_text(encoding="utf-8", errors="replace")


def _report(lines: Iterable[object]) -> str:
    return "\n".join(str(line) for line in lines)


# --------------------------------------------------------------------------- the parsers


EXAMPLE = """\
# §99 a title is not a section
## §1 People and roles
Text that mentions §7 is not a heading.
### §1.2 Who may do what
#### §1.2.3 A detail
##### §5 too deep to count
##§6 no space, not a heading
## §10Bad number glued to text
```
## §8 inside a code fence
```
## §11 Interfaces
"""


def test_the_heading_parser_finds_sections_and_nothing_else() -> None:
    assert section_numbers(EXAMPLE) == ["1", "1.2", "1.2.3", "11"]


def test_the_reference_parser_finds_citations_with_their_lines() -> None:
    cite = "domain" + ".md"  # split so that this file cites nothing itself
    text = (
        f"see docs/{cite} §3.2 and {cite} §10.\n"
        f"nothing here: mydomain.md §4, docs/{cite} without a section\n"
        f"""(docs/{cite} §6) and "{cite}\u00a0§12.1.4"\n"""
    )
    found = [(h.line, h.text) for h in references("x.py", text)]
    assert found == [(1, "3.2"), (1, "10"), (3, "6"), (3, "12.1.4")]


def test_the_stale_reference_parser_flags_the_outside_documents() -> None:
    spec, design = "SPEC", "DESIGN"
    text = f"ok\nsee {spec} §3\n{spec}.md and {design}.md\nspecification §3\n"
    assert [h.line for h in stale_references("x.md", text)] == [2, 3]


# --------------------------------------------------------------------------- the repository


def test_domain_md_keeps_every_top_level_section_once() -> None:
    numbers = section_numbers(DOMAIN.read_text(encoding="utf-8"))
    tops = [n for n in numbers if "." not in n]
    assert tops == list(TOP_LEVEL), "the top-level sections must be §1 … §21, in order"
    duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not duplicated, f"sections numbered twice: {duplicated}"


def test_every_subsection_sits_under_its_parent() -> None:
    numbers = section_numbers(DOMAIN.read_text(encoding="utf-8"))
    current: dict[int, str] = {}
    misplaced = []
    for number in numbers:
        depth = number.count(".")
        parent = number.rsplit(".", 1)[0] if depth else None
        if parent is not None and current.get(depth - 1) != parent:
            misplaced.append(number)
        current[depth] = number
    assert not misplaced, f"subsections outside their parent section: {misplaced}"


def test_every_citation_of_domain_md_names_an_existing_section() -> None:
    sections = set(section_numbers(DOMAIN.read_text(encoding="utf-8")))
    cited = [hit for path, text in text_files() for hit in references(path, text)]
    assert cited, "no citation found at all: the scan is broken"
    missing = [hit for hit in cited if hit.text not in sections]
    assert not missing, "citations of sections docs/domain.md does not have:\n" + _report(
        f"{h.path}:{h.line}: §{h.text}" for h in missing
    )


def test_no_reference_to_documents_outside_the_repository_remains() -> None:
    stale = [hit for path, text in text_files() for hit in stale_references(path, text)]
    assert not stale, (
        "references to the specification or design notes outside the repository; cite "
        "docs/domain.md §N (or docs/architecture.md) instead:\n" + _report(stale)
    )

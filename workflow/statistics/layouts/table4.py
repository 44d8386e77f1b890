"""Table 四 (行政复议、行政诉讼情况), identical in both national formats, as data.

Three groups of five columns: 行政复议 | 行政诉讼 · 未经复议直接起诉 | 行政诉讼 · 复议后起诉.
A group's ``path`` gives its header cells (行政诉讼 spans its two routes). The result
codes are the ones the challenge ledger and the legal officer's form use (docs/domain.md §5, §11).
"""

from __future__ import annotations

from dataclasses import dataclass

TITLE = "四、政府信息公开行政复议、行政诉讼情况"

RECONSIDERATION = "reconsideration"
LITIGATION_DIRECT = "litigation_direct"
LITIGATION_AFTER_RECONSIDERATION = "litigation_after_reconsideration"

UPHELD = "upheld"
CORRECTED = "corrected"
OTHER = "other"
PENDING = "pending"
TOTAL = "total"

#: Results a concluded case can have; ``pending`` and ``total`` are derived columns.
RESULTS: tuple[str, ...] = (UPHELD, CORRECTED, OTHER)


@dataclass(frozen=True)
class Table4Group:
    key: str
    path: tuple[str, ...]

    @property
    def label(self) -> str:
        return "·".join(self.path)


@dataclass(frozen=True)
class Table4Column:
    key: str
    label: str


@dataclass(frozen=True)
class Table4Layout:
    groups: tuple[Table4Group, ...]
    columns: tuple[Table4Column, ...]
    title: str = TITLE

    @property
    def group_keys(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.groups)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    def group(self, key: str) -> Table4Group:
        for group in self.groups:
            if group.key == key:
                return group
        raise KeyError(key)

    def column(self, key: str) -> Table4Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


TABLE4_LAYOUT = Table4Layout(
    groups=(
        Table4Group(RECONSIDERATION, ("行政复议",)),
        Table4Group(LITIGATION_DIRECT, ("行政诉讼", "未经复议直接起诉")),
        Table4Group(LITIGATION_AFTER_RECONSIDERATION, ("行政诉讼", "复议后起诉")),
    ),
    columns=(
        Table4Column(UPHELD, "结果维持"),
        Table4Column(CORRECTED, "结果纠正"),
        Table4Column(OTHER, "其他结果"),
        Table4Column(PENDING, "尚未审结"),
        Table4Column(TOTAL, "总计"),
    ),
)


def group_for(kind: str, route: str | None = None) -> str:
    """The table 四 group of a challenge, from the ledger's ``kind`` and ``route``.

    Raises ``ValueError`` for a combination the report has no column for, so an importer
    can report it against the offending line.
    """
    if kind == "reconsideration" and not route:
        return RECONSIDERATION
    if kind == "litigation" and route == "direct":
        return LITIGATION_DIRECT
    if kind == "litigation" and route == "after_reconsideration":
        return LITIGATION_AFTER_RECONSIDERATION
    raise ValueError(f"无法归类的复议/诉讼：kind={kind!r}, route={route!r}")

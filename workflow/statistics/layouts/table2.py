"""Table 二 (主动公开政府信息情况) of both national formats, as data.

Table 二 is entered by staff, not derived from requests. Each cell has a stable key
(``"<item>.<column>"``, e.g. ``"rules.new_made"``) under which its value is stored and
exported, and a value kind so the entry form and the importer can validate it (a count
is a non-negative integer, 本年增/减 may be negative, amounts have decimals).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow.catalog.outcomes import FORMATS

TITLE = "二、主动公开政府信息情况"
#: Header of the label column of every section.
ITEM_HEADER = "信息内容"


class ValueKind(StrEnum):
    COUNT = "count"
    #: 本年增/减: a signed number of items.
    SIGNED_CHANGE = "signed_change"
    AMOUNT_YUAN = "amount_yuan"
    #: 本年收费金额（单位：万元）.
    AMOUNT_WAN = "amount_wan"


@dataclass(frozen=True)
class Table2Column:
    key: str
    label: str
    kind: ValueKind


@dataclass(frozen=True)
class Table2Item:
    key: str
    label: str


@dataclass(frozen=True)
class Table2Cell:
    key: str
    item: Table2Item
    column: Table2Column

    @property
    def kind(self) -> ValueKind:
        return self.column.kind


@dataclass(frozen=True)
class Table2Section:
    """One block of the table: a clause of Art. 20, its items (rows) and columns."""

    label: str
    items: tuple[Table2Item, ...]
    columns: tuple[Table2Column, ...]

    @property
    def cells(self) -> tuple[Table2Cell, ...]:
        return tuple(
            Table2Cell(f"{item.key}.{column.key}", item, column)
            for item in self.items
            for column in self.columns
        )


@dataclass(frozen=True)
class Table2Layout:
    fmt: str
    sections: tuple[Table2Section, ...]
    title: str = TITLE
    item_header: str = ITEM_HEADER

    @property
    def cells(self) -> tuple[Table2Cell, ...]:
        return tuple(cell for section in self.sections for cell in section.cells)

    @property
    def cell_keys(self) -> tuple[str, ...]:
        return tuple(cell.key for cell in self.cells)

    def cell(self, key: str) -> Table2Cell:
        for cell in self.cells:
            if cell.key == key:
                return cell
        raise KeyError(key)


def _count(key: str, label: str) -> Table2Column:
    return Table2Column(key, label, ValueKind.COUNT)


_PREVIOUS = _count("previous_items", "上一年项目数量")
_CHANGE = Table2Column("change", "本年增/减", ValueKind.SIGNED_CHANGE)

TABLE2_2019 = Table2Layout(
    "2019",
    (
        Table2Section(
            "第二十条第（一）项",
            (Table2Item("rules", "规章"), Table2Item("normative_documents", "规范性文件")),
            (
                _count("new_made", "本年新制作数量"),
                _count("new_published", "本年新公开数量"),
                _count("total_published", "对外公开总数量"),
            ),
        ),
        Table2Section(
            "第二十条第（五）项",
            (
                Table2Item("licensing", "行政许可"),
                Table2Item("other_services", "其他对外管理服务事项"),
            ),
            (_PREVIOUS, _CHANGE, _count("decisions", "处理决定数量")),
        ),
        Table2Section(
            "第二十条第（六）项",
            (Table2Item("penalties", "行政处罚"), Table2Item("coercion", "行政强制")),
            (_PREVIOUS, _CHANGE, _count("decisions", "处理决定数量")),
        ),
        Table2Section(
            "第二十条第（八）项",
            (Table2Item("fees", "行政事业性收费"),),
            (_PREVIOUS, _CHANGE),
        ),
        Table2Section(
            "第二十条第（九）项",
            (Table2Item("procurement", "政府集中采购"),),
            (
                _count("items", "采购项目数量"),
                Table2Column("amount", "采购总金额", ValueKind.AMOUNT_YUAN),
            ),
        ),
    ),
)

_DECISIONS_2021 = _count("decisions", "本年处理决定数量")

TABLE2_2021 = Table2Layout(
    "2021",
    (
        Table2Section(
            "第二十条第（一）项",
            (Table2Item("rules", "规章"), Table2Item("normative_documents", "行政规范性文件")),
            (
                _count("issued", "本年制发件数"),
                _count("repealed", "本年废止件数"),
                _count("in_force", "现行有效件数"),
            ),
        ),
        Table2Section(
            "第二十条第（五）项",
            (Table2Item("licensing", "行政许可"),),
            (_DECISIONS_2021,),
        ),
        Table2Section(
            "第二十条第（六）项",
            (Table2Item("penalties", "行政处罚"), Table2Item("coercion", "行政强制")),
            (_DECISIONS_2021,),
        ),
        Table2Section(
            "第二十条第（八）项",
            (Table2Item("fees", "行政事业性收费"),),
            (Table2Column("amount", "本年收费金额（单位：万元）", ValueKind.AMOUNT_WAN),),
        ),
    ),
)

TABLE2_LAYOUTS: dict[str, Table2Layout] = {"2019": TABLE2_2019, "2021": TABLE2_2021}

#: Items whose 现行有效件数 must follow from last year's (docs/domain.md §6 rule 6, 2021 format).
IN_FORCE_ITEMS: tuple[str, ...] = ("rules", "normative_documents")


def table2_layout(fmt: str) -> Table2Layout:
    """The table 二 layout of a national format ("2019" or "2021")."""
    try:
        return TABLE2_LAYOUTS[fmt]
    except KeyError:
        raise ValueError(f"未知的报表格式：{fmt}（可选：{'、'.join(FORMATS)}）") from None


def _validate() -> None:
    """Fail at import if two cells share a key (their stored values would collide)."""
    assert set(TABLE2_LAYOUTS) == set(FORMATS)
    for layout in TABLE2_LAYOUTS.values():
        keys = layout.cell_keys
        assert len(keys) == len(set(keys)), f"duplicate table 二 cell key in {layout.fmt}"


_validate()

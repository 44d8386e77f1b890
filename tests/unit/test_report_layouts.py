"""The national table layouts: keys, official labels, spans and the format of a year."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workflow.catalog.applicants import APPLICANT_KINDS, ORGANISATION_GROUP_LABEL
from workflow.catalog.outcomes import FORMATS, GROUP_BY_CODE, OUTCOME_BY_CODE
from workflow.statistics.layouts import TABLE4_LAYOUT, format_for_year, table2_layout, table3_layout
from workflow.statistics.layouts.table2 import ValueKind
from workflow.statistics.layouts.table3 import LABEL_DEPTH
from workflow.statistics.layouts.table3 import _validate as validate_table3
from workflow.statistics.layouts.table4 import group_for

OUTCOME_ROWS_COMMON = [
    "disclosed",
    "partially_disclosed",
    "withheld.state_secret",
    "withheld.prohibited_by_law",
    "withheld.security_stability",
    "withheld.third_party",
    "withheld.internal_affairs",
    "withheld.process_information",
    "withheld.enforcement_file",
    "withheld.administrative_query",
    "unavailable.not_held",
    "unavailable.needs_creation",
    "unavailable.still_unclear",
    "not_processed.petition",
    "not_processed.duplicate",
    "not_processed.publication",
    "not_processed.excessive",
    "not_processed.confirmation",
]
OTHER_ROWS = {
    "2019": ["other"],
    "2021": ["other.supplement_lapsed", "other.fee_lapsed", "other.other"],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_table3_row_keys_follow_the_json_contract(fmt: str) -> None:
    expected = [
        "new_received",
        "carried_over",
        *OUTCOME_ROWS_COMMON,
        *OTHER_ROWS[fmt],
        "total_concluded",
        "carried_forward",
    ]
    assert list(table3_layout(fmt).row_keys) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_table3_columns(fmt: str) -> None:
    layout = table3_layout(fmt)
    assert layout.column_keys == (
        "natural_person",
        "commercial_enterprise",
        "research_institution",
        "social_welfare_org",
        "legal_service_org",
        "other_org",
        "total",
    )
    assert [c.label for c in layout.columns] == [
        *(k.label for k in APPLICANT_KINDS),
        "总计",
    ]
    assert [c.group for c in layout.columns] == [None, *[ORGANISATION_GROUP_LABEL] * 5, None]
    assert layout.column_header == "申请人情况"


@pytest.mark.parametrize("fmt", FORMATS)
def test_table3_official_labels(fmt: str) -> None:
    layout = table3_layout(fmt)
    assert layout.title == "三、收到和处理政府信息公开申请情况"
    assert layout.note == "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    assert layout.row("new_received").path == ("一、本年新收政府信息公开申请数量",)
    assert layout.row("carried_over").path == ("二、上年结转政府信息公开申请数量",)
    assert layout.row("total_concluded").path == ("三、本年度办理结果", "（七）总计")
    assert layout.row("carried_forward").path == ("四、结转下年度继续办理",)
    assert layout.row("disclosed").path == ("三、本年度办理结果", "（一）予以公开")
    assert layout.row("partially_disclosed").label == (
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    )
    assert layout.row("withheld.security_stability").path == (
        "三、本年度办理结果",
        "（三）不予公开",
        "3.危及“三安全一稳定”",
    )
    assert layout.row("unavailable.not_held").headers[-1] == "（四）无法提供"
    assert layout.row("not_processed.duplicate").headers[-1] == "（五）不予处理"


@pytest.mark.parametrize("fmt", FORMATS)
def test_outcome_labels_come_from_the_catalogue(fmt: str) -> None:
    layout = table3_layout(fmt)
    for row in layout.outcome_rows:
        if row.key in OUTCOME_BY_CODE:
            assert row.label == OUTCOME_BY_CODE[row.key].label
        else:
            assert row.label == GROUP_BY_CODE[row.key].label
        for code in row.outcome_codes:
            assert layout.row_for_outcome(code) == row.key


def test_other_rows_per_format() -> None:
    assert table3_layout("2019").row("other").path == ("三、本年度办理结果", "（六）其他处理")
    assert table3_layout("2019").row("other").outcome_codes == (
        "other.supplement_lapsed",
        "other.fee_lapsed",
        "other.other",
    )
    labels_2021 = [table3_layout("2021").row(k).path for k in OTHER_ROWS["2021"]]
    assert labels_2021 == [
        (
            "三、本年度办理结果",
            "（六）其他处理",
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ),
        (
            "三、本年度办理结果",
            "（六）其他处理",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ),
        ("三、本年度办理结果", "（六）其他处理", "3.其他"),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_outcome_counts_in_exactly_one_row(fmt: str) -> None:
    """Which row each outcome counts in, by name: the import-time check only says "one".

    In the 2019 format the three "other" outcomes share row （六）; 36(一) is counted in
    （一）予以公开 with 36(二), and 36(五) in （四）1 with 36(四) (issue 13); otherwise every
    outcome has a row of its own, keyed by its code.
    """
    layout = table3_layout(fmt)
    rows_of = {
        code: [r.key for r in layout.outcome_rows if code in r.outcome_codes]
        for code in OUTCOME_BY_CODE
    }
    shared = {
        "disclosed.published": "disclosed",
        "unavailable.not_responsible": "unavailable.not_held",
    }
    assert rows_of == {
        code: ["other" if fmt == "2019" and code.startswith("other.") else shared.get(code, code)]
        for code in OUTCOME_BY_CODE
    }


@pytest.mark.parametrize("dropped", ["disclosed", "withheld.third_party"])
def test_the_import_time_check_refuses_a_layout_that_loses_an_outcome(dropped: str) -> None:
    layout = table3_layout("2021")
    broken = replace(layout, rows=tuple(r for r in layout.rows if r.key != dropped))
    with pytest.raises(AssertionError, match="every outcome in exactly one row"):
        validate_table3(broken)
    doubled = replace(layout, rows=(*layout.rows, layout.row(dropped)))
    with pytest.raises(AssertionError, match="duplicate row key"):
        validate_table3(doubled)


@pytest.mark.parametrize("fmt", FORMATS)
def test_label_cells_cover_the_label_area_exactly_once(fmt: str) -> None:
    layout = table3_layout(fmt)
    covered: list[tuple[int, int]] = []
    for cell in layout.label_cells():
        covered.extend(
            (r, c)
            for r in range(cell.row, cell.row + cell.row_span)
            for c in range(cell.column, cell.column + cell.col_span)
        )
    grid = [(r, c) for r in range(len(layout.rows)) for c in range(LABEL_DEPTH)]
    assert sorted(covered) == grid


@pytest.mark.parametrize(("fmt", "result_rows"), [("2019", 20), ("2021", 22)])
def test_merged_headers(fmt: str, result_rows: int) -> None:
    cells = {c.text: c for c in table3_layout(fmt).label_cells()}
    assert (cells["三、本年度办理结果"].row, cells["三、本年度办理结果"].row_span) == (
        2,
        result_rows,
    )
    assert cells["（三）不予公开"].row_span == 8
    assert cells["（四）无法提供"].row_span == 3
    assert cells["（五）不予处理"].row_span == 5
    assert cells["一、本年新收政府信息公开申请数量"].col_span == 3
    assert cells["（一）予以公开"].col_span == 2
    assert cells["1.属于国家秘密"].col_span == 1
    other = cells["（六）其他处理"]
    assert (other.row_span, other.col_span) == ((1, 2) if fmt == "2019" else (3, 1))


def test_table4_layout() -> None:
    assert TABLE4_LAYOUT.title == "四、政府信息公开行政复议、行政诉讼情况"
    assert TABLE4_LAYOUT.group_keys == (
        "reconsideration",
        "litigation_direct",
        "litigation_after_reconsideration",
    )
    assert [g.path for g in TABLE4_LAYOUT.groups] == [
        ("行政复议",),
        ("行政诉讼", "未经复议直接起诉"),
        ("行政诉讼", "复议后起诉"),
    ]
    assert [(c.key, c.label) for c in TABLE4_LAYOUT.columns] == [
        ("upheld", "结果维持"),
        ("corrected", "结果纠正"),
        ("other", "其他结果"),
        ("pending", "尚未审结"),
        ("total", "总计"),
    ]


def test_group_for_challenge_kind_and_route() -> None:
    assert group_for("reconsideration") == "reconsideration"
    assert group_for("litigation", "direct") == "litigation_direct"
    assert group_for("litigation", "after_reconsideration") == "litigation_after_reconsideration"
    with pytest.raises(ValueError):
        group_for("litigation")
    with pytest.raises(ValueError):
        group_for("reconsideration", "direct")


def _table2_summary(fmt: str) -> list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]]:
    return [
        (
            s.label,
            [(i.key, i.label) for i in s.items],
            [(c.key, c.label) for c in s.columns],
        )
        for s in table2_layout(fmt).sections
    ]


def test_table2_2019() -> None:
    change = [("previous_items", "上一年项目数量"), ("change", "本年增/减")]
    assert _table2_summary("2019") == [
        (
            "第二十条第（一）项",
            [("rules", "规章"), ("normative_documents", "规范性文件")],
            [
                ("new_made", "本年新制作数量"),
                ("new_published", "本年新公开数量"),
                ("total_published", "对外公开总数量"),
            ],
        ),
        (
            "第二十条第（五）项",
            [("licensing", "行政许可"), ("other_services", "其他对外管理服务事项")],
            [*change, ("decisions", "处理决定数量")],
        ),
        (
            "第二十条第（六）项",
            [("penalties", "行政处罚"), ("coercion", "行政强制")],
            [*change, ("decisions", "处理决定数量")],
        ),
        ("第二十条第（八）项", [("fees", "行政事业性收费")], change),
        (
            "第二十条第（九）项",
            [("procurement", "政府集中采购")],
            [("items", "采购项目数量"), ("amount", "采购总金额")],
        ),
    ]
    layout = table2_layout("2019")
    assert layout.cell("rules.new_made").kind is ValueKind.COUNT
    assert layout.cell("licensing.change").kind is ValueKind.SIGNED_CHANGE
    assert layout.cell("procurement.amount").kind is ValueKind.AMOUNT_YUAN
    assert len(layout.cell_keys) == 6 + 6 + 6 + 2 + 2


def test_table2_2021() -> None:
    decisions = [("decisions", "本年处理决定数量")]
    assert _table2_summary("2021") == [
        (
            "第二十条第（一）项",
            [("rules", "规章"), ("normative_documents", "行政规范性文件")],
            [
                ("issued", "本年制发件数"),
                ("repealed", "本年废止件数"),
                ("in_force", "现行有效件数"),
            ],
        ),
        ("第二十条第（五）项", [("licensing", "行政许可")], decisions),
        ("第二十条第（六）项", [("penalties", "行政处罚"), ("coercion", "行政强制")], decisions),
        (
            "第二十条第（八）项",
            [("fees", "行政事业性收费")],
            [("amount", "本年收费金额（单位：万元）")],
        ),
    ]
    layout = table2_layout("2021")
    assert layout.cell("fees.amount").kind is ValueKind.AMOUNT_WAN
    assert layout.cell("rules.in_force").kind is ValueKind.COUNT
    assert layout.title == "二、主动公开政府信息情况"


@pytest.mark.parametrize(
    ("year", "fmt"),
    [
        (2015, "2019"),
        (2018, "2019"),
        (2019, "2019"),
        (2020, "2019"),
        (2021, "2021"),
        (2030, "2021"),
    ],
)
def test_format_for_year(year: int, fmt: str) -> None:
    assert format_for_year(year) == fmt


def test_format_override() -> None:
    assert format_for_year(2020, "2021") == "2021"
    assert format_for_year(2022, "2019") == "2019"
    with pytest.raises(ValueError):
        format_for_year(2022, "2017")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError):
        table3_layout("2017")
    with pytest.raises(ValueError):
        table2_layout("2017")

"""The derived sentences, rule 7 (narrative = table), the fee fold and table 二 input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from workflow.annual_report import table2_values
from workflow.annual_report.narrative import (
    RULE_7,
    FeeSummary,
    all_figures,
    challenges_sentence,
    fee_summary,
    fees_sentence,
    group_name,
    narrative_checks,
    requests_sentence,
    sentences,
)
from workflow.statistics.fold import RULES, table3_from_counts, table4_from_counts
from workflow.statistics.layouts.table2 import ValueKind, table2_layout

#: docs/domain.md §10: the reference year, every request from a natural person.
SPEC_10 = table3_from_counts(
    {
        ("new_received", "natural_person"): 10,
        ("disclosed", "natural_person"): 1,
        ("partially_disclosed", "natural_person"): 4,
        ("withheld.third_party", "natural_person"): 1,
        ("unavailable.not_held", "natural_person"): 2,
        ("not_processed.duplicate", "natural_person"): 1,
        ("other.supplement_lapsed", "natural_person"): 1,
    },
    "2019",
)
LAWSUITS = table4_from_counts({("litigation_direct", "upheld"): 2})
NO_FEES = FeeSummary(2019, 0, 0, 0, 0)


def figures(fees: FeeSummary = NO_FEES):
    return all_figures(SPEC_10, LAWSUITS, "2019", fees)


def test_requests_sentence_quotes_table_three():
    assert requests_sentence(SPEC_10, "2019") == (
        "本年度共收到政府信息公开申请10件，上年结转0件，办结10件，其中予以公开1件、部分公开4件、"
        "不予公开1件、无法提供2件、不予处理1件、其他处理1件，结转下年度继续办理0件。"
    )


def test_requests_sentence_of_an_empty_year():
    empty = table3_from_counts({}, "2021")
    assert requests_sentence(empty, "2021") == (
        "本年度共收到政府信息公开申请0件，上年结转0件，办结0件，结转下年度继续办理0件。"
    )


def test_challenges_sentence_quotes_table_four():
    assert challenges_sentence(LAWSUITS) == (
        "本年度因政府信息公开被申请行政复议0件、提起行政诉讼2件（其中未经复议直接起诉2件、"
        "复议后起诉0件）；行政诉讼结果维持2件。"
    )
    mixed = table4_from_counts(
        {("reconsideration", "corrected"): 1, ("reconsideration", "pending"): 2}
    )
    assert challenges_sentence(mixed) == (
        "本年度因政府信息公开被申请行政复议3件、提起行政诉讼0件；"
        "行政复议结果纠正1件、行政复议尚未审结2件。"
    )


def test_group_names_drop_numbering_and_notes():
    assert group_name("（三）不予公开") == "不予公开"
    assert group_name("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == "部分公开"


def test_generated_sentences_pass_rule_seven():
    fees = FeeSummary(2019, 2, 300, 1, 100)
    text = "".join(s.text for s in sentences(SPEC_10, LAWSUITS, "2019", fees))
    checks = narrative_checks({"一、总体情况": text}, figures(fees))
    assert len(checks) > 10
    assert all(c.ok and c.rule == RULE_7 for c in checks)


def test_a_contradicting_number_is_flagged_with_its_cells():
    text = requests_sentence(SPEC_10, "2019").replace("予以公开1件", "予以公开3件")
    text += "另有2件提起行政诉讼，行政诉讼结果维持 1 件。"
    checks = narrative_checks({"一、总体情况": text, "六、其他需要报告的事项": ""}, figures())
    failed = [c for c in checks if not c.ok]
    assert [c.detail for c in failed] == [
        "一、总体情况：“予以公开3件”，表中为1件",
        "一、总体情况：“行政诉讼结果维持 1 件”，表中为2件",
    ]
    assert failed[0].cells == ("disclosed.total",)
    assert set(failed[1].cells) == {
        "litigation_direct.upheld",
        "litigation_after_reconsideration.upheld",
    }


def test_aliases_and_sections_are_checked():
    checks = narrative_checks(
        {
            "一、总体情况": "全年新收政府信息公开申请9件。",
            "五、存在的主要问题及改进情况": "结转下年度0件",
        },
        figures(),
    )
    assert [(c.ok, c.detail) for c in checks] == [
        (False, "一、总体情况：“新收政府信息公开申请9件”，表中为10件"),
        (True, "五、存在的主要问题及改进情况：“结转下年度0件”，表中为0件"),
    ]


def test_nothing_quoted_is_one_passing_check():
    checks = narrative_checks({"一、总体情况": "全年主动公开政府信息4167条。"}, figures())
    assert [(c.ok, c.detail) for c in checks] == [(True, "叙述部分未引用统计数字")]


@dataclass
class Ev:
    trigger: str
    effective_date: date
    payload: dict[str, Any] = field(default_factory=dict)


def test_fee_summary_counts_notices_and_payments_of_the_year():
    histories = [
        [  # charged in 2025, paid in 2026: the payment belongs to 2026
            Ev("register", date(2025, 12, 1)),
            Ev("issue_fee_notice", date(2025, 12, 20), {"amount": 200}),
            Ev("fee_paid", date(2026, 1, 5)),
        ],
        [  # charged twice in 2026 (after a reopen), paid the second notice
            Ev("issue_fee_notice", date(2026, 3, 1), {"amount": 100}),
            Ev("fee_lapsed", date(2026, 4, 1)),
            Ev("issue_fee_notice", date(2026, 6, 1), {"amount": 300}),
            Ev("fee_paid", date(2026, 6, 10)),
        ],
        [  # voided: counts nowhere
            Ev("issue_fee_notice", date(2026, 5, 1), {"amount": 999}),
            Ev("void", date(2026, 5, 2)),
        ],
    ]
    assert fee_summary(histories, 2026) == FeeSummary(2026, 2, 400, 2, 500)
    assert fee_summary(histories, 2025) == FeeSummary(2025, 1, 200, 0, 0)


def test_fee_sentence_and_its_check():
    assert fees_sentence(NO_FEES) == "本年度未收取政府信息公开信息处理费。"
    fees = FeeSummary(2026, 2, 400, 2, 500)
    text = fees_sentence(fees)
    assert text == (
        "本年度共发出信息处理费收费通知2件，收费金额合计400元；申请人实际缴纳2件，实收金额合计500元。"
    )
    wrong = text.replace("400元", "450元")
    failed = [c for c in narrative_checks({"六": wrong}, figures(fees)) if not c.ok]
    assert [c.detail for c in failed] == ["六：“收费金额合计450元”，表中为400元"]


# --------------------------------------------------------------------------- table 二


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (ValueKind.COUNT, "", None),
        (ValueKind.COUNT, " 277 ", 277),
        (ValueKind.COUNT, "１,４８５", 1485),
        (ValueKind.SIGNED_CHANGE, "减8", -8),
        (ValueKind.SIGNED_CHANGE, "-29", -29),
        (ValueKind.SIGNED_CHANGE, "增3", 3),
        (ValueKind.SIGNED_CHANGE, "+3", 3),
        (ValueKind.SIGNED_CHANGE, "0", 0),
        (ValueKind.AMOUNT_YUAN, "3010869.24", Decimal("3010869.24")),
        (ValueKind.AMOUNT_WAN, "12.3456", Decimal("12.3456")),
        (ValueKind.AMOUNT_WAN, "0", Decimal("0")),
    ],
)
def test_table2_values_parse(kind, text, value):
    assert table2_values.parse_value(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (ValueKind.COUNT, "-1", "非负整数"),
        (ValueKind.COUNT, "1.5", "非负整数"),
        (ValueKind.COUNT, "十", "非负整数"),
        (ValueKind.COUNT, "99999999999", "过大"),
        (ValueKind.SIGNED_CHANGE, "减", "减8"),
        (ValueKind.SIGNED_CHANGE, "减-8", "减8"),
        (ValueKind.AMOUNT_WAN, "1.23456", "4位小数"),
        (ValueKind.AMOUNT_YUAN, "1.234", "2位小数"),
        (ValueKind.AMOUNT_WAN, "-2", "负数"),
        (ValueKind.AMOUNT_WAN, "abc", "金额"),
        (ValueKind.AMOUNT_WAN, "NaN", "金额"),
        (ValueKind.AMOUNT_WAN, "Infinity", "金额"),
    ],
)
def test_table2_values_refuse(kind, text, message):
    with pytest.raises(ValueError, match=message):
        table2_values.parse_value(kind, text)


def test_table2_display_and_storage_round_trip():
    assert table2_values.display(ValueKind.SIGNED_CHANGE, -8) == "减8"
    assert table2_values.display(ValueKind.SIGNED_CHANGE, 8) == "增8"
    assert table2_values.display(ValueKind.SIGNED_CHANGE, 0) == "0"
    assert table2_values.display(ValueKind.AMOUNT_WAN, Decimal("1.50")) == "1.50"
    assert table2_values.display(ValueKind.COUNT, None) == ""
    values = {"licensing.change": -8, "procurement.amount": Decimal("3010869.24"), "x": None}
    stored = table2_values.to_json(values)
    assert stored == {"licensing.change": -8, "procurement.amount": "3010869.24"}
    assert table2_values.from_json(stored) == {k: v for k, v in values.items() if v is not None}


def test_parse_table2_reports_every_bad_cell():
    raw = {"rules.issued": "x", "rules.repealed": "-1", "fees.amount": "1.5"}
    values, errors = table2_values.parse_table2("2021", raw)
    assert set(errors) == {"rules.issued", "rules.repealed"}
    assert values["fees.amount"] == Decimal("1.5")
    assert set(values) == set(table2_layout("2021").cell_keys) - set(errors)
    assert "规章·本年制发件数" in table2_values.missing("2021", values)


def test_rule_six_only_in_the_2021_format():
    current = {"rules.issued": 2, "rules.repealed": 1, "rules.in_force": 20}
    previous = {"rules.in_force": 10}
    checks = table2_values.rule6_checks("2021", current, previous)
    assert [(c.rule, c.ok) for c in checks] == [(RULES[6], False)]
    fixed = {**current, "rules.in_force": 11}
    assert all(c.ok for c in table2_values.rule6_checks("2021", fixed, previous))
    assert table2_values.rule6_checks("2019", current, previous) == []

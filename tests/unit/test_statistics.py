"""The reference fold of docs/domain.md §6: table 三, table 四, the checks and the JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.catalog.applicants import KIND_CODES
from workflow.catalog.outcomes import DECIDABLE_OUTCOMES, FORMATS, OUTCOME_OF_TRIGGER
from workflow.statistics.facts import RequestFacts, facts_as_of, facts_from_events
from workflow.statistics.fold import (
    RULES,
    ChallengeFacts,
    Check,
    checks,
    render_text,
    stats_json,
    table2_checks,
    table3,
    table3_from_counts,
    table4,
)
from workflow.statistics.layouts import TABLE4_LAYOUT, table3_layout


@dataclass(frozen=True)
class Ev:
    trigger: str
    effective_date: date
    payload: Mapping[str, Any] = field(default_factory=dict)


def history(received: date, *events: Ev) -> list[Ev]:
    return [Ev("register", received), Ev("accept", received), *events]


def decide(on: date, outcome: str) -> Ev:
    return Ev("decide", on, {"outcome": outcome})


def person(received: date, *events: Ev) -> tuple[str, RequestFacts]:
    return "natural_person", facts_from_events(received, history(received, *events))


def nonzero(table: Mapping[str, Mapping[str, int]]) -> dict[tuple[str, str], int]:
    return {(r, c): n for r, cells in table.items() for c, n in cells.items() if n}


def all_ok(result: list[Check]) -> bool:
    return all(c.ok for c in result)


NO_CHALLENGES = table4([], 2019)


# --------------------------------------------------------------- the reference year


def reference_year() -> list[tuple[str, RequestFacts]]:
    """docs/domain.md §10: ten natural-person requests received and concluded in 2019."""
    outcomes = [
        "disclosed",
        *["partially_disclosed"] * 4,
        "withheld.third_party",
        *["unavailable.not_held"] * 2,
        "not_processed.duplicate",
    ]
    items = [
        person(date(2019, 1 + i, 5), decide(date(2019, 1 + i, 20), outcome))
        for i, outcome in enumerate(outcomes)
    ]
    items.append(person(date(2019, 11, 4), Ev("withdraw", date(2019, 11, 8))))
    return items


def test_reference_year_every_cell() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    expected = {
        "new_received": 10,
        "carried_over": 0,
        "disclosed": 1,
        "partially_disclosed": 4,
        "withheld.third_party": 1,
        "unavailable.not_held": 2,
        "not_processed.duplicate": 1,
        "other": 1,
        "total_concluded": 10,
        "carried_forward": 0,
    }
    assert list(t3) == list(table3_layout("2019").row_keys)
    for row, cells in t3.items():
        want = expected.get(row, 0)
        assert cells == {
            "natural_person": want,
            "commercial_enterprise": 0,
            "research_institution": 0,
            "social_welfare_org": 0,
            "legal_service_org": 0,
            "other_org": 0,
            "total": want,
        }, row


def test_reference_year_json_and_checks() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    t4 = table4(
        [
            ChallengeFacts("litigation_direct", date(2019, 6, 1), date(2019, 10, 9), "upheld"),
            ChallengeFacts("litigation_direct", date(2019, 7, 1), date(2019, 11, 19), "upheld"),
        ],
        2019,
    )
    result = checks(t3, t4, "2019", previous_t3={})
    assert all_ok(result)
    doc = stats_json("nanchang-etdz", 2019, "2019", t3, t4, result)
    assert list(doc) == ["agency", "year", "format", "table3", "table4", "checks"]
    assert (doc["agency"], doc["year"], doc["format"]) == ("nanchang-etdz", 2019, "2019")
    assert doc["table3"]["other"]["natural_person"] == 1
    assert doc["table4"]["litigation_direct"] == {
        "upheld": 2,
        "corrected": 0,
        "other": 0,
        "pending": 0,
        "total": 2,
    }
    assert set(doc["checks"][0]) == {"rule", "ok", "detail"}
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc


def test_rule1_detail_names_cells_and_values() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    first = checks(t3, NO_CHALLENGES, "2019")[0]
    assert first.rule == RULES[1]
    assert first.detail == "自然人: 一(10)+二(0)=10, 三(七)(10)+四(0)=10"
    assert first.cells == (
        "new_received.natural_person",
        "carried_over.natural_person",
        "total_concluded.natural_person",
        "carried_forward.natural_person",
    )


# --------------------------------------------------------------- counting decisions


def test_voided_request_counts_nowhere() -> None:
    voided = person(
        date(2019, 3, 1), decide(date(2019, 3, 5), "disclosed"), Ev("void", date(2020, 1, 5))
    )
    open_voided = person(date(2019, 12, 1), Ev("void", date(2019, 12, 2)))
    for year in (2019, 2020):
        assert nonzero(table3([voided, open_voided], year, "2019")) == {}


def test_reopened_request_is_counted_once() -> None:
    item = person(
        date(2019, 5, 1),
        decide(date(2019, 5, 20), "withheld.third_party"),
        Ev("reopen", date(2020, 3, 1)),
        decide(date(2020, 3, 25), "disclosed"),
    )
    assert nonzero(table3([item], 2019, "2021")) == {
        ("new_received", "natural_person"): 1,
        ("new_received", "total"): 1,
        ("withheld.third_party", "natural_person"): 1,
        ("withheld.third_party", "total"): 1,
        ("total_concluded", "natural_person"): 1,
        ("total_concluded", "total"): 1,
    }
    assert nonzero(table3([item], 2020, "2021")) == {}


@pytest.mark.parametrize("trigger", sorted(OUTCOME_OF_TRIGGER))
def test_other_rows_fold_in_2019_and_split_in_2021(trigger: str) -> None:
    item = person(date(2021, 2, 1), Ev(trigger, date(2021, 3, 1)))
    t2019 = table3([item], 2021, "2019")
    t2021 = table3([item], 2021, "2021")
    assert t2019["other"]["natural_person"] == 1
    assert t2021[OUTCOME_OF_TRIGGER[trigger]]["natural_person"] == 1
    assert "other" not in t2021
    assert not any(k.startswith("other.") for k in t2019)
    assert t2019["total_concluded"] == t2021["total_concluded"]


def test_decided_other_other_counts_in_other_rows() -> None:
    item = person(date(2021, 2, 1), decide(date(2021, 3, 1), "other.other"))
    assert table3([item], 2021, "2019")["other"]["total"] == 1
    assert table3([item], 2021, "2021")["other.other"]["total"] == 1


def test_request_spanning_new_year() -> None:
    item = (
        "legal_service_org",
        facts_from_events(
            date(2019, 12, 20),
            history(date(2019, 12, 20), decide(date(2020, 1, 8), "unavailable.not_held")),
        ),
    )
    y2019 = nonzero(table3([item], 2019, "2019"))
    y2020 = nonzero(table3([item], 2020, "2019"))
    assert y2019 == {
        ("new_received", "legal_service_org"): 1,
        ("new_received", "total"): 1,
        ("carried_forward", "legal_service_org"): 1,
        ("carried_forward", "total"): 1,
    }
    assert y2020 == {
        ("carried_over", "legal_service_org"): 1,
        ("carried_over", "total"): 1,
        ("unavailable.not_held", "legal_service_org"): 1,
        ("unavailable.not_held", "total"): 1,
        ("total_concluded", "legal_service_org"): 1,
        ("total_concluded", "total"): 1,
    }
    assert nonzero(table3([item], 2021, "2021")) == {}
    assert all_ok(checks(table3([item], 2020, "2019"), NO_CHALLENGES, "2019", previous_t3=None))
    prev = table3([item], 2019, "2019")
    assert all_ok(checks(table3([item], 2020, "2019"), NO_CHALLENGES, "2019", prev))


def test_boundaries_are_inclusive() -> None:
    """Received 1 Jan and concluded 31 Dec are both inside the year."""
    item = person(date(2020, 1, 1), decide(date(2020, 12, 31), "disclosed"))
    assert nonzero(table3([item], 2020, "2019")) == {
        ("new_received", "natural_person"): 1,
        ("new_received", "total"): 1,
        ("disclosed", "natural_person"): 1,
        ("disclosed", "total"): 1,
        ("total_concluded", "natural_person"): 1,
        ("total_concluded", "total"): 1,
    }
    assert nonzero(table3([item], 2019, "2019")) == {}
    assert nonzero(table3([item], 2021, "2021")) == {}


def test_concluded_on_new_years_day_is_carried_over_then_concluded() -> None:
    item = person(date(2019, 12, 31), decide(date(2020, 1, 1), "disclosed"))
    assert table3([item], 2019, "2019")["carried_forward"]["total"] == 1
    y2020 = table3([item], 2020, "2019")
    assert y2020["carried_over"]["total"] == y2020["disclosed"]["total"] == 1
    assert y2020["carried_forward"]["total"] == 0


def test_long_open_request_is_carried_for_years() -> None:
    item = person(date(2019, 6, 1))
    for year in (2020, 2021, 2022):
        t3 = table3([item], year, "2021")
        assert t3["carried_over"]["total"] == t3["carried_forward"]["total"] == 1


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="申请人类型"):
        table3([("alien", RequestFacts(date(2019, 1, 1), None, None))], 2019, "2019")


def test_counts_by_outcome_code_are_placed_in_format_rows() -> None:
    """A fast path may GROUP BY outcome; the layout places the codes in its rows."""
    counts = {("other.fee_lapsed", "natural_person"): 2, ("other.other", "natural_person"): 1}
    assert table3_from_counts(counts, "2019")["other"]["natural_person"] == 3
    assert table3_from_counts(counts, "2021")["other.fee_lapsed"]["total"] == 2
    with pytest.raises(ValueError):
        table3_from_counts({("total_concluded", "natural_person"): 1}, "2019")
    with pytest.raises(ValueError):
        table3_from_counts({("disclosed", "total"): 1}, "2019")


# --------------------------------------------------------------- checks on bad tables


def test_checks_report_a_broken_table() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    t3["new_received"]["natural_person"] = 11  # e.g. a bad import
    failed = [c for c in checks(t3, NO_CHALLENGES, "2019") if not c.ok]
    assert [c.rule for c in failed] == [RULES[1], RULES[3]]
    assert failed[0].detail == "自然人: 一(11)+二(0)=11, 三(七)(10)+四(0)=10"


def test_rule2_and_rule4_catch_bad_totals() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    t3["total_concluded"]["natural_person"] = 9
    t4 = table4([ChallengeFacts("reconsideration", date(2019, 1, 1), None, None)], 2019)
    t4["reconsideration"]["total"] = 0
    failed = {c.rule for c in checks(t3, t4, "2019") if not c.ok}
    assert failed == {RULES[1], RULES[2], RULES[3], RULES[4]}


def test_rule5_against_a_hand_entered_prior_year() -> None:
    item = person(date(2018, 12, 28), decide(date(2019, 1, 3), "disclosed"))
    t3 = table3([item], 2019, "2019")
    good = {"carried_forward": {"natural_person": 1, "total": 1}}
    bad = {"carried_forward": {"natural_person": 2, "total": 2}}
    rule5 = [c for c in checks(t3, NO_CHALLENGES, "2019", good) if c.rule == RULES[5]]
    assert len(rule5) == 7 and all_ok(rule5)
    failed = [c for c in checks(t3, NO_CHALLENGES, "2019", bad) if not c.ok]
    assert [c.detail for c in failed] == [
        "自然人: 本年二(1), 上年四(2)",
        "总计: 本年二(1), 上年四(2)",
    ]
    assert not any(c.rule == RULES[5] for c in checks(t3, NO_CHALLENGES, "2019"))


def test_rule6_in_force_documents() -> None:
    previous = {"rules.in_force": 10, "normative_documents.in_force": 100}
    current = {
        "rules.issued": 2,
        "rules.repealed": 1,
        "rules.in_force": 11,
        "normative_documents.issued": 5,
        "normative_documents.repealed": 10,
        "normative_documents.in_force": 96,
    }
    result = table2_checks(current, previous)
    assert [c.ok for c in result] == [True, False]
    assert result[1].detail == (
        "行政规范性文件: 本年现行有效(96), 上年现行有效(100)+本年制发(5)-本年废止(10)=95"
    )
    assert table2_checks(current, {}) == []


# --------------------------------------------------------------- table 四


def test_challenge_filed_in_one_year_concluded_in_the_next() -> None:
    case = ChallengeFacts("reconsideration", date(2019, 11, 1), date(2020, 2, 1), "corrected")
    assert table4([case], 2018)["reconsideration"]["total"] == 0
    assert table4([case], 2019)["reconsideration"] == {
        "upheld": 0,
        "corrected": 0,
        "other": 0,
        "pending": 1,
        "total": 1,
    }
    assert table4([case], 2020)["reconsideration"] == {
        "upheld": 0,
        "corrected": 1,
        "other": 0,
        "pending": 0,
        "total": 1,
    }
    assert table4([case], 2021)["reconsideration"]["total"] == 0


def test_challenge_groups_are_separate() -> None:
    cases = [
        ChallengeFacts("litigation_direct", date(2021, 3, 1), date(2021, 6, 1), "other"),
        ChallengeFacts("litigation_after_reconsideration", date(2021, 3, 1), None, None),
    ]
    t4 = table4(cases, 2021)
    assert t4["litigation_direct"]["other"] == 1
    assert t4["litigation_after_reconsideration"]["pending"] == 1
    assert t4["reconsideration"]["total"] == 0


def test_challenge_facts_are_validated() -> None:
    with pytest.raises(ValueError):
        ChallengeFacts("litigation", date(2021, 1, 1), None, None)
    with pytest.raises(ValueError):
        ChallengeFacts("reconsideration", date(2021, 1, 1), date(2021, 2, 1), None)
    with pytest.raises(ValueError):
        ChallengeFacts("reconsideration", date(2021, 1, 1), date(2021, 2, 1), "pending")


# --------------------------------------------------------------- text rendering


def test_render_text_uses_layout_labels() -> None:
    t3 = table3(reference_year(), 2019, "2019")
    text = render_text(t3, "2019", NO_CHALLENGES, checks(t3, NO_CHALLENGES, "2019"), title="T")
    assert "一、本年新收政府信息公开申请数量" in text
    assert "（六）其他处理" in text
    assert "行政诉讼·未经复议直接起诉" in text
    assert "勾稽关系：全部" in text
    t3["new_received"]["total"] = 99
    assert "✗" in render_text(t3, "2019", checks=checks(t3, NO_CHALLENGES, "2019"))


# --------------------------------------------------------------- properties

YEARS = range(2018, 2027)
DECIDE_CODES = [o.code for o in DECIDABLE_OUTCOMES]
EDGES = [(1, 1), (12, 31)]


def dates_near_edges(first: int, last: int) -> st.SearchStrategy[date]:
    """Dates in ``first``..``last``, often exactly on 1 January or 31 December."""
    edges = st.tuples(st.integers(first, last), st.sampled_from(EDGES)).map(
        lambda t: date(t[0], *t[1])
    )
    return st.one_of(st.dates(date(first, 1, 1), date(last, 12, 31)), edges)


@st.composite
def request_histories(draw: st.DrawFn) -> tuple[str, date, list[Ev]]:
    received = draw(dates_near_edges(2019, 2023))
    events = history(received)
    if draw(st.booleans()):
        # Year boundaries are where off-by-one errors live: hit them often.
        boundary = date(draw(st.integers(received.year, 2025)), *draw(st.sampled_from(EDGES)))
        concluded = draw(
            st.sampled_from([received + timedelta(days=draw(st.integers(0, 500))), boundary])
        )
        concluded = max(concluded, received)
        trigger = draw(st.sampled_from(["decide", *OUTCOME_OF_TRIGGER]))
        payload = {"outcome": draw(st.sampled_from(DECIDE_CODES))} if trigger == "decide" else {}
        events.append(Ev(trigger, concluded, payload))
        if draw(st.booleans()):
            reopened = concluded + timedelta(days=draw(st.integers(0, 400)))
            events.append(Ev("reopen", reopened))
            if draw(st.booleans()):
                again = reopened + timedelta(days=draw(st.integers(0, 100)))
                events.append(decide(again, draw(st.sampled_from(DECIDE_CODES))))
    if draw(st.integers(0, 9)) == 0:
        events.append(Ev("void", received + timedelta(days=draw(st.integers(0, 900)))))
    return draw(st.sampled_from(KIND_CODES)), received, events


histories = st.lists(request_histories(), max_size=40)


def _facts(raw: list[tuple[str, date, list[Ev]]]) -> list[tuple[str, RequestFacts]]:
    return [(kind, facts_from_events(received, events)) for kind, received, events in raw]


@settings(max_examples=200, deadline=None)
@given(histories)
def test_all_checks_hold_for_every_year_and_format(raw: list[tuple[str, date, list[Ev]]]) -> None:
    items = _facts(raw)
    for fmt in FORMATS:
        layout = table3_layout(fmt)
        previous = None
        for year in YEARS:
            t3 = table3(items, year, fmt)
            result = checks(t3, NO_CHALLENGES, fmt, previous)
            assert all_ok(result), [c.detail for c in result if not c.ok]
            for cells in t3.values():
                assert cells["total"] == sum(cells[k] for k in layout.kind_keys)
            for kind in layout.column_keys:
                assert t3["total_concluded"][kind] == sum(
                    t3[r.key][kind] for r in layout.outcome_rows
                )
                assert (
                    t3["new_received"][kind] + t3["carried_over"][kind]
                    == t3["total_concluded"][kind] + t3["carried_forward"][kind]
                )
                if previous is not None:
                    assert t3["carried_over"][kind] == previous["carried_forward"][kind]
            previous = t3


@settings(max_examples=200, deadline=None)
@given(histories)
def test_each_request_is_received_once_and_concluded_at_most_once(
    raw: list[tuple[str, date, list[Ev]]],
) -> None:
    items = _facts(raw)
    live = [f for _, f in items if not f.voided]
    tables = [table3(items, year, "2021") for year in YEARS]
    assert sum(t["new_received"]["total"] for t in tables) == len(live)
    concluded = sum(1 for f in live if f.concluded_on is not None)
    assert sum(t["total_concluded"]["total"] for t in tables) == concluded
    # Voided requests change nothing; neither do events after the year ends.
    kept = [(k, f) for k, f in items if not f.voided]
    for year, t in zip(YEARS, tables, strict=True):
        assert table3(kept, year, "2021") == t
        as_of = [
            (kind, facts_as_of(received, events, date(year, 12, 31)))
            for kind, received, events in raw
            if not facts_from_events(received, events).voided
        ]
        assert table3(as_of, year, "2021") == t


@settings(max_examples=200, deadline=None)
@given(histories)
def test_2019_format_is_the_2021_format_with_other_rows_folded(
    raw: list[tuple[str, date, list[Ev]]],
) -> None:
    items = _facts(raw)
    for year in (2019, 2021, 2023):
        old, new = table3(items, year, "2019"), table3(items, year, "2021")
        for row, cells in old.items():
            if row == "other":
                parts = ("other.supplement_lapsed", "other.fee_lapsed", "other.other")
                assert cells == {c: sum(new[p][c] for p in parts) for c in cells}
            else:
                assert cells == new[row]


@st.composite
def challenges(draw: st.DrawFn) -> ChallengeFacts:
    filed = draw(dates_near_edges(2019, 2023))
    group = draw(st.sampled_from(TABLE4_LAYOUT.group_keys))
    if draw(st.booleans()):
        return ChallengeFacts(group, filed, None, None)
    boundary = date(draw(st.integers(filed.year, 2025)), *draw(st.sampled_from(EDGES)))
    later = filed + timedelta(days=draw(st.integers(0, 800)))
    concluded = max(filed, draw(st.sampled_from([later, boundary])))
    return ChallengeFacts(
        group, filed, concluded, draw(st.sampled_from(["upheld", "corrected", "other"]))
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(challenges(), max_size=30))
def test_table4_properties(cases: list[ChallengeFacts]) -> None:
    t3 = table3([], 2019, "2019")
    results = 0
    for year in YEARS:
        t4 = table4(cases, year)
        assert all_ok(checks(t3, t4, "2019"))
        results += sum(t4[g][c] for g in t4 for c in ("upheld", "corrected", "other"))
        for group in TABLE4_LAYOUT.group_keys:
            alive = [
                c
                for c in cases
                if c.group == group
                and c.filed_on.year <= year
                and (c.concluded_on is None or c.concluded_on.year >= year)
            ]
            assert t4[group]["total"] == len(alive)
            open_at_end = [c for c in alive if c.concluded_on is None or c.concluded_on.year > year]
            assert t4[group]["pending"] == len(open_at_end)
    assert results == sum(1 for c in cases if c.concluded_on is not None)

"""The progressive fee rules of docs/domain.md §8 (2020 fee measures), at every tier boundary."""

from __future__ import annotations

import pytest

from workflow.catalog.fees import PER_PAGE, PER_REQUEST, compute_fee, schedule_text
from workflow.notices.fees import rmb_capital


def test_spec_example_35_requests_in_a_month() -> None:
    fee = compute_fee(PER_REQUEST, 35)
    assert fee.amount == 20 * 100 + 5 * 200 == 3000
    assert fee.explanation == (
        "按件计收（同一申请人本自然月内共35件）：第1—10件免费；"
        "第11—30件每件100元，20件×100元=2,000元；"
        "第31—35件每件200元，5件×200元=1,000元；合计3,000元。"
    )


@pytest.mark.parametrize(
    ("count", "amount"),
    [
        (0, 0),
        (1, 0),
        (10, 0),
        (11, 100),
        (30, 2000),
        (31, 2200),
        (40, 4000),
        (41, 4300),
        (50, 7000),
        (51, 7400),
    ],
)
def test_per_request_boundaries(count: int, amount: int) -> None:
    assert compute_fee(PER_REQUEST, count).amount == amount


@pytest.mark.parametrize(
    ("ordinal", "price"), [(10, 0), (11, 100), (30, 100), (31, 200), (40, 200), (41, 300)]
)
def test_one_request_costs_its_tier_price(ordinal: int, price: int) -> None:
    """Charging a single request needs how many the applicant made before it that month."""
    fee = compute_fee(PER_REQUEST, 1, already=ordinal - 1)
    assert fee.amount == price
    assert f"第{ordinal}件" in fee.explanation


def test_per_request_is_additive_over_the_month() -> None:
    """Charging requests one by one adds up to charging the month at once."""
    singles = sum(compute_fee(PER_REQUEST, 1, already=n).amount for n in range(73))
    assert singles == compute_fee(PER_REQUEST, 73).amount


@pytest.mark.parametrize(
    ("pages", "amount"),
    [
        (0, 0),
        (30, 0),
        (31, 10),
        (100, 700),
        (101, 720),
        (200, 2700),
        (201, 2740),
        (250, 4700),
    ],
)
def test_per_page_boundaries(pages: int, amount: int) -> None:
    assert compute_fee(PER_PAGE, pages).amount == amount


def test_per_page_explanation_lists_every_tier_used() -> None:
    fee = compute_fee(PER_PAGE, 201)
    assert [(line.first, line.last, line.unit_price) for line in fee.lines] == [
        (1, 30, 0),
        (31, 100, 10),
        (101, 200, 20),
        (201, 201, 40),
    ]
    assert fee.explanation.startswith("按量计收（共201页）：第1—30页免费；")
    assert fee.explanation.endswith("第201页每页40元，1页×40元=40元；合计2,740元。")


def test_schedules_state_the_rules() -> None:
    assert "201页以上每页40元" in schedule_text(PER_PAGE)
    assert "以10件为一档" in schedule_text(PER_REQUEST)


@pytest.mark.parametrize(
    ("method", "quantity", "already"),
    [("by_weight", 1, 0), (PER_PAGE, -1, 0), (PER_REQUEST, 1, -1), (PER_PAGE, 5, 3)],
)
def test_nonsense_is_refused(method: str, quantity: int, already: int) -> None:
    with pytest.raises(ValueError):
        compute_fee(method, quantity, already=already)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "零元整"),
        (100, "壹佰元整"),
        (720, "柒佰贰拾元整"),
        (1005, "壹仟零伍元整"),
        (3000, "叁仟元整"),
        (10010, "壹万零壹拾元整"),
        (100000, "壹拾万元整"),
        (100000001, "壹亿零壹元整"),
        (12345678, "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元整"),
    ],
)
def test_amount_in_capital_numerals(amount: int, words: str) -> None:
    assert rmb_capital(amount) == words

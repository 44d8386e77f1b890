"""Information-processing fees (信息处理费, docs/domain.md §8): the tariff as data, pure.

Art. 42 of the Regulation and the 2020 fee measures (《政府信息公开信息处理费管理办法》)
allow a fee only for a volume beyond a reasonable range, by one of two methods, each
progressive: the further an applicant goes past the free allowance, the dearer each unit.
The fee notice prints the tiers a charge went through, so the applicant can check the
arithmetic; the same function is the one place that arithmetic is defined.

* per request (按件): counted per applicant per calendar month — the 1st–10th free, the
  11th–30th 100 元 each, then tiers of 10 requests, each tier 100 元 dearer per request
  (31st–40th 200 元, 41st–50th 300 元, …);
* per page (按量): pages 1–30 free, 31–100 at 10 元, 101–200 at 20 元, from 201 at 40 元.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

PER_REQUEST = "per_request"
PER_PAGE = "per_page"
#: The two methods of the 2020 measures (Art. 3), as the fee-notice form offers them.
FEE_METHODS: tuple[tuple[str, str], ...] = ((PER_REQUEST, "按件计收"), (PER_PAGE, "按量计收"))
#: The 2020 measures (国办函〔2020〕109号) apply from 2021-01-01: no fee notice before.
FEE_MEASURES_FROM = date(2021, 1, 1)
#: The rule the fee notice cites, and the refusals name.
FEE_MEASURES = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"
#: The measures' rule a lapse applies (audit D21): a lapse notice cites it beside Art. 42.
FEE_LAPSE_RULE = (
    f"{FEE_MEASURES}关于“申请人应当在收到收费通知次日起20个工作日内缴纳费用，"
    "逾期未缴纳的视为放弃申请”"
)

#: The unit each method counts, for the explanation line.
_UNITS: dict[str, str] = {PER_REQUEST: "件", PER_PAGE: "页"}
#: The methods' names as the fee-notice form offers them.
METHOD_LABELS: dict[str, str] = dict(FEE_METHODS)


@dataclass(frozen=True)
class Tier:
    """Units ``first``…``last`` (1-based, inclusive; ``last`` None = no end) at one price."""

    first: int
    last: int | None
    unit_price: int


def _per_request_tier(unit: int) -> Tier:
    """The tier holding the ``unit``-th request of the month (the tiers never end)."""
    if unit <= 10:
        return Tier(1, 10, 0)
    if unit <= 30:
        return Tier(11, 30, 100)
    step = (unit - 31) // 10  # 0 for the 31st–40th, 1 for the 41st–50th, …
    first = 31 + 10 * step
    return Tier(first, first + 9, 200 + 100 * step)


_PAGE_TIERS: tuple[Tier, ...] = (
    Tier(1, 30, 0),
    Tier(31, 100, 10),
    Tier(101, 200, 20),
    Tier(201, None, 40),
)


def _per_page_tier(unit: int) -> Tier:
    return next(t for t in _PAGE_TIERS if t.last is None or unit <= t.last)


_TIER_OF: dict[str, Callable[[int], Tier]] = {
    PER_REQUEST: _per_request_tier,
    PER_PAGE: _per_page_tier,
}
METHODS: tuple[str, ...] = tuple(_TIER_OF)


def _span(first: int, last: int, unit: str) -> str:
    return f"第{first}" + ("" if first == last else f"—{last}") + unit


@dataclass(frozen=True)
class FeeLine:
    """The charged units ``first``…``last`` that fall into one tier."""

    first: int
    last: int
    unit_price: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    @property
    def subtotal(self) -> int:
        return self.count * self.unit_price

    def text(self, unit: str) -> str:
        """``第11—30件每件100元，20件×100元=2,000元`` (or ``第1—10件免费``)."""
        span = _span(self.first, self.last, unit)
        if self.unit_price == 0:
            return f"{span}免费"
        return (
            f"{span}每{unit}{self.unit_price}元，"
            f"{self.count}{unit}×{self.unit_price}元={self.subtotal:,}元"
        )


@dataclass(frozen=True)
class Fee:
    """A computed fee: the amount in 元 and the tier lines that make it up."""

    method: str
    #: Units charged by this fee (requests or pages).
    quantity: int
    #: Units counted before, in the same month (per request only).
    already: int
    lines: tuple[FeeLine, ...]

    @property
    def amount(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def explanation(self) -> str:
        """One line listing every tier the charge went through, ending with the total."""
        unit = _UNITS[self.method]
        parts = "；".join(line.text(unit) for line in self.lines)
        if self.method == PER_PAGE:
            counted = f"共{self.quantity}页"
        elif self.already:
            counted = "同一申请人本自然月内" + _span(
                self.already + 1, self.already + self.quantity, unit
            )
        else:
            counted = f"同一申请人本自然月内共{self.quantity}件"
        return f"{METHOD_LABELS[self.method]}（{counted}）：{parts}；合计{self.amount:,}元。"


def compute_fee(method: str, quantity: int, *, already: int = 0) -> Fee:
    """The fee for ``quantity`` units after ``already`` units of the same count.

    ``already`` matters only per request: the 35th request of a month is dearer than
    the 11th, so charging one request needs how many came before it that month
    (``compute_fee(PER_REQUEST, 1, already=34)`` is the 35th alone: 200 元).
    """
    tier_of = _TIER_OF.get(method)
    if tier_of is None:
        raise ValueError(f"unknown fee method {method!r}")
    if quantity < 0 or already < 0:
        raise ValueError("quantity and already must not be negative")
    if method == PER_PAGE and already:
        raise ValueError("pages are counted per request: already must be 0")
    lines: list[FeeLine] = []
    unit, end = already + 1, already + quantity
    while unit <= end:
        tier = tier_of(unit)
        last = end if tier.last is None else min(end, tier.last)
        lines.append(FeeLine(unit, last, tier.unit_price))
        unit = last + 1
    return Fee(method, quantity, already, tuple(lines))


def pages_for_amount(amount: int) -> int | None:
    """The page count a per-page ``amount`` stands for (None if no count gives it).

    Beyond the 30 free pages each page costs something, so the amount fixes the count:
    a ledger that recorded only the amount of a per-page fee is replayed with its pages.
    """
    if amount <= 0:
        return None
    for tier in _PAGE_TIERS[1:]:
        before = compute_fee(PER_PAGE, tier.first - 1).amount
        pages, rest = divmod(amount - before, tier.unit_price)
        if rest == 0 and (tier.last is None or tier.first - 1 + pages <= tier.last):
            return tier.first - 1 + pages
    return None


def schedule_text(method: str) -> str:
    """The rule itself in words (for a notice whose quantity the system does not know)."""
    unit = _UNITS[method]
    if method == PER_REQUEST:
        return (
            "按件计收：同一申请人一个自然月内累计申请10件以下（含10件）的，不收费；"
            "累计申请11—30件（含30件）的部分，每件100元；累计申请31件以上的部分，"
            "以10件为一档，每增加一档，收费标准每件提高100元。"
        )
    tiers = []
    for tier in _PAGE_TIERS:
        span = f"{tier.first}{unit}以上" if tier.last is None else f"{tier.first}—{tier.last}{unit}"
        price = "免费" if tier.unit_price == 0 else f"每{unit}{tier.unit_price}元"
        tiers.append(f"{span}{price}")
    return f"{METHOD_LABELS[method]}：" + "；".join(tiers) + "。"

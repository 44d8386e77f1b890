"""Wording of fee notices: sums in capital numerals (大写), as a 收费通知书 writes them.

The tariff itself (the tiers, the computed fee) is legal data in
``workflow.catalog.fees``; this module only writes an amount out.
"""

from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _section_capital(section: int) -> str:
    """0 < section < 10000 in capital numerals, inner zeros read once (壹仟零伍)."""
    text, zero = "", False
    for place in (3, 2, 1, 0):
        digit = section // 10**place % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text, zero = text + "零", False
        text += _DIGITS[digit] + _PLACES[place]
    return text


def rmb_capital(amount: int) -> str:
    """Whole 元 in capital numerals (大写), as a fee notice writes the sum: 叁仟元整."""
    if amount == 0:
        return "零元整"
    sections = []
    while amount:
        amount, section = divmod(amount, 10000)
        sections.append(section)
    text, gap = "", False
    for index in reversed(range(len(sections))):
        section = sections[index]
        if section == 0:
            gap = bool(text)
            continue
        if text and (gap or section < 1000):
            text += "零"
        text += _section_capital(section) + _SECTIONS[index]
        gap = False
    return text + "元整"

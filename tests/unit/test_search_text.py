"""Segmentation for full-text search: what a document holds and what a query asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from workflow.requests import search_text
from workflow.requests.search_text import document, notes_of, parse_query, words


@dataclass
class Ev:
    payload: dict[str, Any]


def test_two_character_words_are_words_of_the_document() -> None:
    text = document("申请公开房屋征收补偿方案及拆迁安置协议", "王五")
    assert {"征收", "拆迁", "补偿", "安置"} <= set(text.split())


def test_inner_words_of_long_words_are_indexed_too() -> None:
    tokens = document("国有土地上房屋征收与补偿条例", "某").split()
    assert "国有土地" in tokens and "国有" in tokens and "土地" in tokens


def test_names_are_indexed_whole_and_by_two_character_pieces() -> None:
    tokens = set(document("信息公开", "欧阳小明").split())
    assert {"欧阳", "阳小", "小明"} <= tokens


def test_punctuation_is_dropped_and_latin_is_lower_case() -> None:
    assert words("关于《ABC公司》的“低保”！") == ["关于", "abc", "公司", "的", "低保"]


def test_the_same_characters_segment_the_same_way() -> None:
    # No HMM: an unknown run is single characters, wherever it stands.
    assert words("犇骉") == ["犇", "骉"]
    assert words("关于犇骉的申请")[1:3] == ["犇", "骉"]


def test_notes_come_from_the_events_payloads() -> None:
    events = [Ev({}), Ev({"note": "申请人电话补正"}), Ev({"note": "  "}), Ev({"note": 3})]
    assert notes_of(events) == ["申请人电话补正"]


def test_query_groups_and_quoting() -> None:
    query = parse_query('征收 "补偿" 犇骉')
    assert query.groups == (("征收",), ("补偿",), ("犇", "骉"))
    assert query.fts5() == '"征收" AND "补偿" AND ("犇 骉" OR "犇骉")'
    assert query.tsquery() == "'征收' & '补偿' & ('犇' <-> '骉' | '犇骉')"


def test_a_query_of_punctuation_only_asks_for_no_words() -> None:
    assert not parse_query("“”！？*^:")
    assert parse_query("OR").fts5() == '"or"'  # a word, never an operator


@pytest.mark.parametrize(
    "text",
    [
        "本区2025年度部门预算及“三公”经费支出情况（7270）",
        "关于 2024年 国有土地上房屋征收（第3号）决定书, A-12 & B.5 %",
        "张三丰\r\n李四  王五",
        "某地块征收补偿安置方案",
        "",
        "abc-def_ghi，一二三四五六七八九十一二三四五",
    ],
)
def test_words_cut_block_by_block_are_the_words_of_the_whole_text(text: str) -> None:
    """The remembered per-block segmentation gives what jieba gives for the whole text."""
    import jieba

    def whole(cut) -> list[str]:
        return [w for w in (search_text._word(t) for t in cut(text, HMM=False)) if w]

    assert search_text.words(text) == whole(jieba.cut)
    assert search_text._inner_words(text) == whole(jieba.cut_for_search)

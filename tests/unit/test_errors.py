"""Domain errors cross process boundaries intact: a bulk replay's worker process raises
them, and the parent must show the clerk the same message (not one split into characters)."""

from __future__ import annotations

import multiprocessing
import pickle

import pytest

from workflow.kernel.errors import GuardError, LineErrors, ValidationError

REASONS = ["本申请未告知补正，不能以“补正后申请内容仍不明确”答复", "请选择审理结果"]


def _raise_guard_error(_: int) -> None:
    raise GuardError(REASONS, {"outcome": "请先告知补正"})


def test_guard_and_line_errors_survive_pickling() -> None:
    guard = pickle.loads(pickle.dumps(GuardError(REASONS, {"outcome": "请先告知补正"})))
    assert type(guard) is GuardError
    assert guard.reasons == REASONS and str(guard) == "；".join(REASONS)
    assert guard.field_errors == {"outcome": "请先告知补正"}
    lines = pickle.loads(
        pickle.dumps(LineErrors({"file": ["第3行：日期无效", "第9行：缺少申请人"]}))
    )
    assert lines.messages == {"file": ["第3行：日期无效", "第9行：缺少申请人"]}
    assert lines.field_errors == {"file": "第3行：日期无效；第9行：缺少申请人"}
    invalid = pickle.loads(pickle.dumps(ValidationError("日期无效", {"on": "日期无效"})))
    assert str(invalid) == "日期无效" and invalid.field_errors == {"on": "日期无效"}


def test_a_worker_process_guard_error_reaches_the_parent_whole() -> None:
    with multiprocessing.get_context("fork").Pool(1) as pool, pytest.raises(GuardError) as raised:
        pool.map(_raise_guard_error, [1])
    assert raised.value.reasons == REASONS
    assert str(raised.value) == "；".join(REASONS)

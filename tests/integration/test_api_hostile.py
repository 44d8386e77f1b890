"""Hostile input to the JSON API over real HTTP: every answer JSON, never HTML or a trace.

Huge bodies (413 before they are read), deep nesting, invalid UTF-8, the wrong media
type, JSON's non-standard constants, unknown paths and methods, ids beyond the database's
integers — and afterwards the server still answers and nothing was written.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from models import Request
from tests.integration.api_http import (
    API,
    ApiWorld,
    populate,
    registration,
    serve,
)


@pytest.fixture(scope="module")
def world(templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    url = templates.copy("empty", "api_hostile", tmp_path_factory.mktemp("api-hostile"))
    agency, child, other, tokens = populate(url)
    with serve(url) as base:
        yield ApiWorld(base, url, agency, child, other, tokens)


def requests_stored(world: ApiWorld) -> int:
    with world.session() as session:
        return session.scalar(select(func.count()).select_from(Request))


def assert_json_error(answer, status: int) -> str:
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json["error"]
    assert "Traceback" not in error and "<" not in error
    return error


def test_a_10_mb_body_is_refused_with_413_json_before_it_is_read(world) -> None:
    before = requests_stored(world)
    body = json.dumps({**registration(), "subject": "长" * (10 * 1024 * 1024 // 3)}).encode()
    assert len(body) > 10 * 1024 * 1024
    answer = world.client("registrar").post("requests", raw=body)
    assert "1024 KB" in assert_json_error(answer, 413)
    assert requests_stored(world) == before


def test_a_chunked_body_without_a_length_is_bounded_too(world) -> None:
    """No Content-Length to check up front: reading stops at the limit (413)."""
    parts = urlsplit(world.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    chunks = (b"[" + b"1," * 100_000 + b"1]" for _ in range(12))
    conn.request(
        "POST",
        f"{API}/requests",
        body=chunks,
        headers={
            "Authorization": f"Bearer {world.tokens['registrar']}",
            "Content-Type": "application/json",
        },
        encode_chunked=True,
    )
    response = conn.getresponse()
    assert response.status == 413, response.read()
    assert json.loads(response.read())["error"].startswith("请求体过大")
    conn.close()


def test_deep_nesting_is_refused_with_400_json(world) -> None:
    client = world.client("registrar")
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        assert "嵌套过深" in assert_json_error(client.post("requests", raw=raw), 400)
    nested: object = "x"
    for _ in range(20):
        nested = {"k": nested}
    answer = client.post("requests", {**registration(), "subject": nested})
    assert "嵌套过深" in assert_json_error(answer, 400)


def test_invalid_utf8_and_non_json_are_400_json(world) -> None:
    client = world.client("registrar")
    valid = json.dumps(registration(), ensure_ascii=False).encode()
    broken = valid.replace("张三".encode(), b"\xe5\xbc")  # a truncated character
    assert "UTF-8" in assert_json_error(client.post("requests", raw=broken), 400)
    assert "UTF-8" in assert_json_error(client.post("requests", raw=b"\xff\xfe{}"), 400)
    for raw in (b"{", b"{'a': 1}", b'{"a": NaN}', b'{"a": Infinity}', b"", b"\x00"):
        assert "JSON" in assert_json_error(client.post("requests", raw=raw), 400), raw
    form = client.post(
        "requests",
        raw=b"applicant_name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "application/json" in assert_json_error(form, 415)


def test_control_characters_and_overlong_text_are_cleaned_or_refused(world) -> None:
    client = world.client("registrar")
    answer = client.post("requests", {**registration(), "applicant_name": "张\u0000三\u0007"})
    assert answer.status == 201 and answer.json["events"][0]["payload"]["applicant_name"] == "张三"
    long = client.post("requests", {**registration(), "applicant_name": "长" * 201})
    assert "不能超过200个字符" in long.json["errors"]["applicant_name"]


def test_unknown_paths_methods_and_ids_are_json(world) -> None:
    client = world.client("viewer")
    assert_json_error(client.get("nothing-here"), 404)
    assert_json_error(client.get(f"{API}"), 404)
    assert_json_error(client.get("requests/99999999999"), 404)
    assert_json_error(client.get("requests/-1"), 404)
    assert_json_error(client.get("requests/abc"), 404)
    assert_json_error(client.call("DELETE", "requests"), 405)
    assert_json_error(client.call("PUT", "requests/1/events", {}), 405)
    assert_json_error(client.get("requests/1/events"), 405)
    assert_json_error(client.get("notices/99999.pdf"), 404)


def test_the_server_survives_and_wrote_nothing(world) -> None:
    before = requests_stored(world)
    client = world.client("registrar")
    for raw in (b"[]", b"{}", b'{"applicant_name": []}', b'"' + b"\\u0000" * 1000 + b'"'):
        answer = client.post("requests", raw=raw)
        assert answer.status in (400, 422) and answer.json["error"]
    assert requests_stored(world) == before
    assert client.get("requests").status == 200

"""Personal data columns encrypted at rest, decrypted on read (docs/domain.md §21.1).

``EncryptedString`` is the column type of ``Request.id_number``, ``phone`` and
``address``: with ``GONGKAI_PII_KEY`` set it encrypts on the way in and decrypts on the
way out (``workflow.kernel.pii``), so pages, exports, notices, the API and the ledger,
which all read the ORM attributes, see clear text and never change. Without the key it
stores what it is given, and refuses to read a value that is encrypted (the key is
missing: a clear message, not ciphertext on a page).

Because the stored text is randomised, SQL cannot compare it: :func:`same` is how code
asks "this column equals that value" (the keyed hash column when encryption is on, the
column itself when off), and the type itself refuses any other comparison with a
non-empty value while the key is set, so a forgotten ``Request.phone == x`` fails loudly
in the tests run with a key instead of silently finding nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    literal,
    or_,
    select,
    table,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

import settings
from workflow.kernel.pii import MISSING_KEY, PREFIX, PiiKeyError, PiiKeys, is_encrypted

#: The encrypted columns of ``requests`` and, for those searched exactly, their index.
ENCRYPTED_COLUMNS: tuple[str, ...] = ("id_number", "phone", "address")
INDEXED: dict[str, str] = {"id_number": "id_number_hash", "phone": "phone_hash"}


@lru_cache(maxsize=4)
def _keys_for(text: str, old: tuple[str, ...]) -> PiiKeys:
    return PiiKeys.from_setting(text, old)


def keys() -> PiiKeys | None:
    """The deployment's keys, or None when personal data is stored in the clear."""
    text = settings.pii_key()
    return _keys_for(text, settings.pii_old_keys()) if text else None


def blind_index(field: str, value: str) -> str | None:
    """The index value for ``field`` = ``value`` (None: no key, or an empty value)."""
    found = keys()
    return found.blind(field, value) if found is not None else None


class EncryptedComparison(RuntimeError):
    """Code compared an encrypted column with a value in SQL (use :func:`same`)."""


_COMPARISONS = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.like_op,
        operators.ilike_op,
        operators.startswith_op,
        operators.endswith_op,
        operators.contains_op,
        operators.in_op,
    }
)


def _nonempty_literal(other: Any) -> bool:
    if isinstance(other, BindParameter):
        other = other.value
    if isinstance(other, (list, tuple, set, frozenset)):
        return any(_nonempty_literal(o) for o in other)
    return isinstance(other, str) and other != ""


class EncryptedString(TypeDecorator[str]):
    """A string column stored encrypted when ``GONGKAI_PII_KEY`` is set.

    ``length`` is the clear value's limit (what the form accepts); PostgreSQL stores
    ``text`` (the ciphertext is longer), SQLite keeps the declared type (it does not
    enforce lengths), so the schema of existing SQLite databases need not be rebuilt.
    """

    impl = String
    cache_ok = True

    def __init__(self, field: str, length: int) -> None:
        super().__init__(length)
        self.field = field

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # Not through ``dialect.type_descriptor``: psycopg's adapter would turn Text into
        # a length-less VARCHAR.
        if dialect.name == "postgresql":
            return Text()
        return String(self.impl.length)  # type: ignore[attr-defined]

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        found = keys()
        if value is None or found is None:
            return value
        return found.encrypt(self.field, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not is_encrypted(value):
            return value
        found = keys()
        if found is None:
            raise PiiKeyError(MISSING_KEY)
        return found.decrypt(self.field, value)

    class comparator_factory(TypeDecorator.Comparator[str]):  # noqa: N801 - SQLAlchemy's name
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            if op in _COMPARISONS and keys() is not None and any(map(_nonempty_literal, other)):
                raise EncryptedComparison(
                    f"{self.expr} is encrypted: compare it with models.pii.same()"
                )
            return super().operate(op, *other, **kwargs)


#: An office correction (``correct``) of one of these fields carries the old and new value.
_CORRECTION_VALUES = ("old", "new")


def _payload_fields(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(key in the payload, column whose associated data it uses) of the personal values."""
    found = [(name, name) for name in ENCRYPTED_COLUMNS if isinstance(payload.get(name), str)]
    field = payload.get("field")
    if field in ENCRYPTED_COLUMNS:
        found += [(k, str(field)) for k in _CORRECTION_VALUES if isinstance(payload.get(k), str)]
    return found


def seal_payload(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """A payload as stored: its personal values encrypted (a copy; None stays None)."""
    found = keys()
    if not payload or found is None:
        return payload
    sealed = dict(payload)
    for key, field in _payload_fields(payload):
        sealed[key] = found.encrypt(f"payload.{field}", payload[key])
    return sealed


def open_payload(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored payload with its personal values decrypted (clear ones as they are)."""
    if not payload:
        return payload
    pairs = [(k, f) for k, f in _payload_fields(payload) if is_encrypted(payload[k])]
    if not pairs:
        return payload
    found = keys()
    if found is None:
        raise PiiKeyError(MISSING_KEY)
    opened = dict(payload)
    for key, field in pairs:
        opened[key] = found.decrypt(f"payload.{field}", payload[key])
    return opened


class EncryptedPayload(TypeDecorator[dict[str, Any]]):
    """A JSON payload (an event's, a portal submission's) whose personal values (ID
    number, phone, address, and the old and new value of a correction of one of them)
    are encrypted at rest like the request's columns.

    The hash chain is computed over the clear payload (what the event means), so
    ``verify-log`` needs the key, like every other reader; events recorded before the key
    was set stay as they were written (the log is append-only and chained).
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        return seal_payload(value)

    def process_result_value(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        return open_payload(value)


def same(column: InstrumentedAttribute[str], value: str) -> ColumnElement[bool]:
    """SQL for "``column`` holds ``value``" on an encrypted column of ``Request``.

    With the key set: the keyed hash column equals the value's hash (an index lookup).
    Without it: the column equals the value. An empty ``value`` compares the column with
    "" either way (empty values are never encrypted).
    """
    field = column.key
    index = INDEXED.get(field)
    if index is None:
        raise EncryptedComparison(f"{field} has no index for exact search")
    if not value:
        return column == ""
    digest = blind_index(field, value)
    if digest is None:
        return column == value
    return getattr(column.class_, index) == digest


def stored_values(values: dict[str, Any]) -> dict[str, Any]:
    """The encrypted columns and their indexes as the database stores them, for writers
    that bypass the ORM (``workflow.store.bulk_writer``)."""
    found = keys()
    out: dict[str, Any] = {}
    for field in ENCRYPTED_COLUMNS:
        value = values.get(field) or ""
        out[field] = found.encrypt(field, value) if found is not None else value
    for field, index in INDEXED.items():
        out[index] = found.blind(field, values.get(field) or "") if found is not None else None
    return out


def check_database(engine: Engine) -> None:
    """Refuse to run against data this process cannot read or would search wrongly.

    * encrypted values and no key: :data:`MISSING_KEY`;
    * a key that does not decrypt them: the wrong-key message;
    * a key and values still in the clear (encryption switched on without running
      ``pii-encrypt``): exact search would miss those rows.

    A database not created yet (no ``requests`` table) passes: ``init`` comes first.
    """
    requests = table("requests", *(sql_column(name, String) for name in ENCRYPTED_COLUMNS))
    cols = [requests.c[name] for name in ENCRYPTED_COLUMNS]
    encrypted = or_(*(c.startswith(PREFIX, autoescape=True) for c in cols))
    clear = or_(*((c != "") & ~c.startswith(PREFIX, autoescape=True) for c in cols))
    try:
        with engine.connect() as conn:
            sample = conn.execute(select(*cols).where(encrypted).limit(1)).first()
            plain = (
                conn.execute(select(requests.c.id_number).where(clear).limit(1)).first()
                if settings.pii_key()
                else None
            )
    except DBAPIError:
        return
    found = keys()
    if sample is not None:
        if found is None:
            raise PiiKeyError(MISSING_KEY)
        for field, value in zip(ENCRYPTED_COLUMNS, sample, strict=True):
            if is_encrypted(value):
                found.decrypt(field, value)
    if plain is not None:
        raise PiiKeyError(
            "已设置 GONGKAI_PII_KEY，但数据库中还有未加密的申请人个人信息；"
            "请先运行 python app.py pii-encrypt（加密全部现有数据）再启动"
        )


#: The append-only tables whose JSON may hold encrypted values (never rewritten).
LOG_TABLES: tuple[tuple[str, str], ...] = (
    ("events", "payload"),
    ("challenge_events", "payload"),
    ("portal_submissions", "values"),
)
LOGS_ENCRYPTED = (
    "事件日志中已有加密的个人信息（事件只能追加、不能改写），停用加密后将无法读取，"
    "因此不能解密停用。更换密钥时请设置新的 GONGKAI_PII_KEY，把原密钥放入 "
    "GONGKAI_PII_OLD_KEYS，再运行 pii-encrypt"
)


def _logs_hold_ciphertext(conn: Connection) -> bool:
    """Whether any log entry holds an encrypted value (a scan: for the commands only)."""
    for name, column in LOG_TABLES:
        stored = sql_column(column, Text)
        probe = select(literal(1)).select_from(table(name, stored))
        probe = probe.where(cast(stored, Text).contains(PREFIX, autoescape=True)).limit(1)
        if conn.execute(probe).first() is not None:
            return True
    return False


def convert_all(engine: Engine, *, encrypt: bool) -> int:
    """Encrypt (or decrypt) every applicant's personal data, all or nothing.

    One transaction: a value the key does not decrypt (a wrong key, a damaged value)
    stops everything and nothing is changed. Rows already as wanted are left alone, so
    running it again after an interruption is safe; after a key rotation (the old key in
    ``GONGKAI_PII_OLD_KEYS``) encrypting again moves every row to the new key and its
    index. Decrypting is refused once the event log holds encrypted values: the log is
    never rewritten, so it would need the key anyway. Returns the rows changed.
    """
    found = keys()
    if found is None:
        raise PiiKeyError("请先设置环境变量 GONGKAI_PII_KEY（加密和解密都需要它）")
    raw = table(
        "requests",
        sql_column("id", Integer),
        *(sql_column(name, String) for name in ENCRYPTED_COLUMNS),
        *(sql_column(index, String) for index in INDEXED.values()),
    )
    changed: list[dict[str, Any]] = []
    with engine.begin() as conn:
        if not encrypt and _logs_hold_ciphertext(conn):
            raise PiiKeyError(LOGS_ENCRYPTED)
        for row in conn.execute(select(raw).order_by(raw.c.id)).mappings():
            clear = {f: found.decrypt(f, row[f] or "") for f in ENCRYPTED_COLUMNS}
            if encrypt:
                wanted: dict[str, Any] = {
                    f: row[f] if found.is_current(f, row[f] or "") else found.encrypt(f, clear[f])
                    for f in ENCRYPTED_COLUMNS
                }
                wanted.update({i: found.blind(f, clear[f]) for f, i in INDEXED.items()})
            else:
                wanted = {**clear, **dict.fromkeys(INDEXED.values())}
            if any(row[name] != value for name, value in wanted.items()):
                changed.append({"row_id": row["id"], **wanted})
        if changed:
            names = (*ENCRYPTED_COLUMNS, *INDEXED.values())
            conn.execute(
                update(raw)
                .where(raw.c.id == bindparam("row_id"))
                .values({name: bindparam(name) for name in names}),
                changed,
            )
    return len(changed)

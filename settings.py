"""Every setting the deployment gives Gongkai, read from the environment in this one place.

Each setting is read when asked for (not at import), so a test or a command can set the
environment first. Nothing else in the code reads ``os.environ`` for configuration; the
operations guide (``docs/operations.md``) lists the same names.
"""

from __future__ import annotations

import os

#: Selects the database; unset means the embedded SQLite file under ``instance/``.
DATABASE_URL = "DATABASE_URL"
#: ``production`` requires a real secret key and refuses demo data.
ENVIRONMENT = "GONGKAI_ENV"
#: Signs the session cookies; random per process outside production.
SECRET_KEY = "GONGKAI_SECRET_KEY"
#: ``1``: cookies only over HTTPS.
SECURE_COOKIES = "GONGKAI_SECURE_COOKIES"
#: ``1``: one trusted reverse proxy in front (client address and scheme from it).
BEHIND_PROXY = "GONGKAI_BEHIND_PROXY"
#: A TrueType/OpenType font file for PDFs, or ``builtin`` for STSong-Light.
PDF_FONT = "GONGKAI_PDF_FONT"
#: A directory shared by the gunicorn workers of a host: metrics are then summed across
#: them (``prometheus_client`` multiprocess mode; the name is that library's).
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: Where the embedded job queue and uploaded files live (default: ``instance/``).
INSTANCE_DIR = "GONGKAI_INSTANCE_DIR"
#: Redis for the job queue (and anything shared between machines); unset: embedded SQLite.
REDIS_URL = "GONGKAI_REDIS_URL"
#: The SMTP server for deadline reminders; unset: reminders stay in the application.
SMTP_HOST = "GONGKAI_SMTP_HOST"
SMTP_PORT = "GONGKAI_SMTP_PORT"
SMTP_FROM = "GONGKAI_SMTP_FROM"
#: How long an SQLite write waits for another writer's lock (ms; default 10000).
SQLITE_BUSY_MS = "GONGKAI_SQLITE_BUSY_MS"
#: ``1``: administrators and approvers must sign in with a TOTP code; ``0``: optional
#: for everyone. Unset: required in production, optional elsewhere (demo, tests).
REQUIRE_2FA = "GONGKAI_REQUIRE_2FA"
#: The digest of the event logs' hash chain: ``sha256`` (default) or ``sm3`` (密评).
LOG_HASH = "GONGKAI_LOG_HASH"
#: Days an effective date may lie before the day it is recorded without a reason.
BACKDATE_DAYS = "GONGKAI_BACKDATE_DAYS"
#: Where attachments and issued notices are kept, each once under its SHA-256 (issue 15
#: item 5): ``local`` (default: the directory ``GONGKAI_FILE_DIR``, else ``instance/files``)
#: or ``s3`` (any S3-compatible object store: the bucket, endpoint and keys below).
FILE_STORE = "GONGKAI_FILE_STORE"
FILE_DIR = "GONGKAI_FILE_DIR"
S3_BUCKET = "GONGKAI_S3_BUCKET"
#: Empty for AWS itself; the URL of MinIO, Ceph, OSS, COS … otherwise.
S3_ENDPOINT = "GONGKAI_S3_ENDPOINT"
S3_REGION = "GONGKAI_S3_REGION"
S3_ACCESS_KEY = "GONGKAI_S3_ACCESS_KEY"
S3_SECRET_KEY = "GONGKAI_S3_SECRET_KEY"
#: Largest attachment in megabytes (default 20).
ATTACHMENT_MAX_MB = "GONGKAI_ATTACHMENT_MAX_MB"
#: The portal (issue 17): files one online application or 补正 answer may carry
#: (default 5), and their total in megabytes (default 30; each file also within
#: ``GONGKAI_ATTACHMENT_MAX_MB``). A form body larger than the total (plus 1 MB for its
#: text) is refused before it is read.
PORTAL_MAX_FILES = "GONGKAI_PORTAL_MAX_FILES"
PORTAL_UPLOAD_MAX_MB = "GONGKAI_PORTAL_UPLOAD_MAX_MB"
#: The password ``create-user`` uses instead of prompting (scripts, the demo).
PASSWORD = "GONGKAI_PASSWORD"
#: 32 random bytes, URL-safe base64 (``python app.py pii-new-key``): applicants' ID
#: numbers, phone numbers and addresses are then stored encrypted (docs/domain.md §21).
#: Unset (the default): stored in the clear. Keep it apart from the database's backups.
PII_KEY = "GONGKAI_PII_KEY"
#: Earlier keys, comma-separated, after a rotation: only for reading what they encrypted
#: (the event log is never rewritten, so its entries keep the key they were written with).
PII_OLD_KEYS = "GONGKAI_PII_OLD_KEYS"


def _get(name: str) -> str:
    return os.environ.get(name, "").strip()


def _flag(name: str) -> bool:
    return _get(name) == "1"


def database_url() -> str:
    return _get(DATABASE_URL)


def production_mode() -> bool:
    return _get(ENVIRONMENT).lower() == "production"


def secret_key() -> str:
    return os.environ.get(SECRET_KEY, "")


def secure_cookies() -> bool:
    return _flag(SECURE_COOKIES)


def behind_proxy() -> bool:
    return _flag(BEHIND_PROXY)


def require_two_factor() -> bool:
    value = _get(REQUIRE_2FA)
    return production_mode() if value == "" else value == "1"


def pdf_font() -> str:
    return _get(PDF_FONT)


def password() -> str:
    return os.environ.get(PASSWORD, "")


def sqlite_busy_ms() -> int:
    value = _get(SQLITE_BUSY_MS)
    return int(value) if value.isdigit() else 10_000


def metrics_dir() -> str:
    return _get(METRICS_DIR)


def instance_dir() -> str:
    return _get(INSTANCE_DIR)


def redis_url() -> str:
    return _get(REDIS_URL)


def smtp() -> dict[str, str]:
    """The SMTP settings that are set, by variable name (read by the reminder mailer)."""
    return {name: _get(name) for name in (SMTP_HOST, SMTP_PORT, SMTP_FROM) if _get(name)}


def pii_key() -> str:
    """The key for personal data at rest, as given ("" when encryption is off)."""
    return _get(PII_KEY)


def pii_old_keys() -> tuple[str, ...]:
    """Earlier personal-data keys, for decrypting only (newest first as given)."""
    return tuple(part.strip() for part in _get(PII_OLD_KEYS).split(",") if part.strip())


def log_hash() -> str:
    """The chain's digest algorithm for new events; unknown names fall back to SHA-256."""
    return _get(LOG_HASH).lower() or "sha256"


def backdate_days() -> int:
    """How far back an effective date may be recorded without a reason (default 7 days)."""
    text = _get(BACKDATE_DAYS)
    return int(text) if text.isascii() and text.isdigit() else 7


def file_store() -> str:
    return _get(FILE_STORE).lower() or "local"


def file_dir() -> str:
    return _get(FILE_DIR)


def s3() -> dict[str, str]:
    """The object store's settings: bucket, endpoint, region, access and secret key."""
    return {
        "bucket": _get(S3_BUCKET),
        "endpoint": _get(S3_ENDPOINT),
        "region": _get(S3_REGION) or "us-east-1",
        "access_key": _get(S3_ACCESS_KEY),
        "secret_key": os.environ.get(S3_SECRET_KEY, ""),
    }


def attachment_max_bytes() -> int:
    """The attachment size limit; a bad value falls back to the default (20 MB)."""
    text = _get(ATTACHMENT_MAX_MB)
    megabytes = int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= 1024 else 20
    return megabytes * 1024 * 1024


def _positive(name: str, default: int, most: int) -> int:
    text = _get(name)
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= most else default


def portal_max_files() -> int:
    """Files one portal submission may carry; a bad value falls back to 5."""
    return _positive(PORTAL_MAX_FILES, 5, 100)


def portal_upload_max_bytes() -> int:
    """All files of one portal submission together; a bad value falls back to 30 MB."""
    return _positive(PORTAL_UPLOAD_MAX_MB, 30, 1024) * 1024 * 1024

"""Where file contents live: a small content-addressed store behind one interface.

Every file (an attachment, an issued notice) is kept once under the SHA-256 of its bytes:
the same scan uploaded twice, or to two requests, is stored once, and a file can never be
changed in place (other bytes are another name). Two implementations:

* :class:`LocalFileStore` — a directory (default ``instance/files``), files fanned out as
  ``ab/cd/abcd…`` so no directory grows huge; written to a temporary name and renamed,
  so a reader never sees half a file;
* :class:`S3FileStore` — any S3-compatible object store (AWS S3, MinIO, Ceph, the
  object stores of Chinese clouds), objects named by their hash.

``get`` checks the hash of what it read, so a damaged or substituted file is refused
rather than served as evidence. The store is chosen by settings
(``file_store_from_settings``); callers receive it as an argument, like the session.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import settings

_HASH = re.compile(r"^[0-9a-f]{64}$")


class StoredFileMissing(LookupError):
    """The store holds no file of that hash (restored database without its files?)."""


class StoredFileDamaged(ValueError):
    """What the store returned does not hash to its name."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(sha256: str) -> str:
    if not _HASH.match(sha256):
        raise ValueError(f"not a SHA-256: {sha256[:80]!r}")
    return sha256


def _verified(sha256: str, data: bytes) -> bytes:
    if content_hash(data) != sha256:
        raise StoredFileDamaged(f"文件 {sha256[:12]}… 已损坏（内容与其哈希值不符）")
    return data


class FileStore(Protocol):
    """Content-addressed storage: put bytes, get them back by their SHA-256."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; StoredFileMissing / StoredFileDamaged."""
        ...

    def has(self, sha256: str) -> bool: ...

    def hashes(self) -> Iterator[str]:
        """Every hash held (for backups and checks)."""
        ...


class LocalFileStore:
    """Files in a directory tree, ``root/ab/cd/<sha256>``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        sha256 = _checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha256 = content_hash(data)
        path = self._path(sha256)
        if path.is_file():
            return sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(f"文件 {sha256[:12]}… 不在文件存储中") from None
        return _verified(sha256, data)

    def has(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def hashes(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            if _HASH.match(path.name) and path.is_file():
                yield path.name


class S3FileStore:
    """Objects in one bucket of an S3-compatible store, ``<prefix><sha256>``."""

    def __init__(self, client: Any, bucket: str, prefix: str = "files/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def connect(
        cls,
        bucket: str,
        *,
        endpoint: str = "",
        region: str = "us-east-1",
        access_key: str = "",
        secret_key: str = "",
    ) -> S3FileStore:
        import boto3  # only where an object store is configured

        client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
        )
        return cls(client, bucket)

    def _key(self, sha256: str) -> str:
        return self.prefix + _checked(sha256)

    def _missing(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, data: bytes) -> str:
        sha256 = content_hash(data)
        if not self.has(sha256):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(sha256),
                Body=data,
                ContentType="application/octet-stream",
                Metadata={"sha256": sha256},
            )
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:
            if self._missing(exc):
                raise StoredFileMissing(f"文件 {sha256[:12]}… 不在对象存储中") from None
            raise
        return _verified(sha256, answer["Body"].read())

    def has(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except Exception as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def hashes(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if _HASH.match(name):
                    yield name


def default_file_dir() -> Path:
    """``GONGKAI_FILE_DIR``, else ``files/`` in the instance directory (beside the jobs)."""
    configured = settings.file_dir()
    if configured:
        return Path(configured)
    instance = settings.instance_dir()
    return (
        Path(instance) / "files"
        if instance
        else Path(__file__).resolve().parent.parent / "instance" / "files"
    )


def open_file_store() -> FileStore:
    """The store the settings name (``GONGKAI_FILE_STORE``: ``local`` or ``s3``)."""
    kind = settings.file_store()
    if kind == "s3":
        s3 = settings.s3()
        if not s3["bucket"]:
            raise RuntimeError("GONGKAI_FILE_STORE=s3 需要设置 GONGKAI_S3_BUCKET")
        return S3FileStore.connect(
            s3["bucket"],
            endpoint=s3["endpoint"],
            region=s3["region"],
            access_key=s3["access_key"],
            secret_key=s3["secret_key"],
        )
    if kind != "local":
        raise RuntimeError(f"GONGKAI_FILE_STORE 只能是 local 或 s3，而不是“{kind}”")
    return LocalFileStore(default_file_dir())

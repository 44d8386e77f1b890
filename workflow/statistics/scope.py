"""Which agencies a statistic covers, shared by table 三 (requests) and table 四 (challenges)."""

from __future__ import annotations

from dataclasses import dataclass

from models import Agency


@dataclass(frozen=True)
class Scope:
    """Which agencies a statistic covers: one agency, optionally with its subordinates."""

    agency: Agency
    agency_ids: tuple[int, ...]
    with_subordinates: bool

    @classmethod
    def of(cls, agency: Agency, with_subordinates: bool = False) -> Scope:
        ids = [a.id for a in agency.descendants()] if with_subordinates else [agency.id]
        return cls(agency, tuple(sorted(ids)), with_subordinates)

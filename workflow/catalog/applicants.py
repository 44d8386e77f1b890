"""Applicant kinds: the columns of table 三 (docs/domain.md §2, §7)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApplicantKind:
    code: str
    label: str
    is_organisation: bool


APPLICANT_KINDS: tuple[ApplicantKind, ...] = (
    ApplicantKind("natural_person", "自然人", False),
    ApplicantKind("commercial_enterprise", "商业企业", True),
    ApplicantKind("research_institution", "科研机构", True),
    ApplicantKind("social_welfare_org", "社会公益组织", True),
    ApplicantKind("legal_service_org", "法律服务机构", True),
    ApplicantKind("other_org", "其他", True),
)

KIND_BY_CODE: dict[str, ApplicantKind] = {k.code: k for k in APPLICANT_KINDS}
KIND_CODES: tuple[str, ...] = tuple(KIND_BY_CODE)

#: Label used for the organisation group header in the report and the register form.
ORGANISATION_GROUP_LABEL = "法人或其他组织"


def kind_from_text(text: str) -> ApplicantKind | None:
    """Resolve a code or its Chinese label (ledgers use either)."""
    value = text.strip()
    if value in KIND_BY_CODE:
        return KIND_BY_CODE[value]
    for kind in APPLICANT_KINDS:
        if value == kind.label:
            return kind
    return None

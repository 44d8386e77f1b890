"""SQLAlchemy 2 typed models. Importing this package registers every table on ``Base``."""

from models.agency import Agency, AgencyChange
from models.api_token import ApiToken
from models.attachment import Attachment
from models.base import Base
from models.calendar import CalendarOverride, CalendarRevision, CalendarYear
from models.challenge import Challenge
from models.event import ChallengeEvent, Event
from models.login_session import LoginSession
from models.notice import Notice, NoticeCounter
from models.portal import PortalFile, PortalSubmission
from models.report import PublishedReport, ReportCorrection
from models.report_draft import PublishedReportPdf, ReportDraft
from models.request import (
    SEARCH_INDEX_TABLE,
    MonthCount,
    Request,
    RequestFacts,
    TrackingCounter,
    include_in_schema_checks,
)
from models.security import RateHit, SecurityLogEntry
from models.transfer import RequestTransfer
from models.user import RecoveryCode, User, UserRole

__all__ = [
    "SEARCH_INDEX_TABLE",
    "Agency",
    "AgencyChange",
    "ApiToken",
    "Attachment",
    "Base",
    "CalendarOverride",
    "CalendarRevision",
    "CalendarYear",
    "Challenge",
    "ChallengeEvent",
    "Event",
    "LoginSession",
    "MonthCount",
    "Notice",
    "NoticeCounter",
    "PortalFile",
    "PortalSubmission",
    "PublishedReport",
    "PublishedReportPdf",
    "RateHit",
    "RecoveryCode",
    "ReportCorrection",
    "ReportDraft",
    "Request",
    "RequestFacts",
    "RequestTransfer",
    "SecurityLogEntry",
    "TrackingCounter",
    "User",
    "UserRole",
    "include_in_schema_checks",
]

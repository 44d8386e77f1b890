"""Domain errors: each carries a message a clerk understands (shown as is in the UI)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes; ``str(err)`` is Chinese for the user."""

    status = 400

    def __reduce__(self) -> tuple[object, ...]:
        """Cross a process boundary whole (a bulk replay's worker raises it): the default
        would call ``cls(message)``, which a subclass taking a list of reasons (or of
        lines) would take apart character by character."""
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(
    cls: type[DomainError], args: tuple[object, ...], state: dict[str, object]
) -> DomainError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ValidationError(DomainError):
    """Input that cannot be accepted; ``field_errors`` maps form fields to messages."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}


class LineErrors(ValidationError):
    """Several problems per field (one per bad line), kept apart so each shows as a line."""

    def __init__(self, messages: dict[str, list[str]]) -> None:
        super().__init__(
            "请更正标出的行，未保存任何内容",
            {field: "；".join(lines) for field, lines in messages.items()},
        )
        self.messages = messages


class GuardError(DomainError):
    """An action not allowed now; ``reasons`` lists every guard that refused."""

    def __init__(self, reasons: list[str], field_errors: dict[str, str] | None = None) -> None:
        super().__init__("；".join(reasons))
        self.reasons = reasons
        self.field_errors = field_errors or {}


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class ConflictError(DomainError):
    """Someone else changed the same request first; nothing was saved."""

    status = 409

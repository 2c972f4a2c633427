"""Galen's error hierarchy, shared by every layer.

Specialists and knowledge raise these; tools let expected ones travel back to the agent as
messages; the CLI and UI turn them into one clear sentence for the person. Bugs are not
wrapped: anything outside this tree is a bug and surfaces as one.

::

    GalenError                     base: has a user-facing ``message`` and optional ``hint``
    ├── InvalidInput               the person's input is wrong (a value, a SMILES, a question)
    │   ├── UnsupportedFile        a file that exists but is not of a kind Galen reads
    │   ├── UnreadableFile         a missing, empty, truncated or corrupt file
    │   ├── MissingFacts           a tool needs facts the person has not given (``missing``)
    │   └── NotFound               no such thread (or not this caller's: the same answer, never a hint)
    ├── ModelUnavailable           weights or an optional dependency is not installed
    ├── BackendUnavailable         the LLM server (or another service) cannot be reached
    ├── PolicyRefusal              the request is outside Galen's intended use or policy
    └── ConfigError                settings are contradictory or point at nothing
"""

from __future__ import annotations


class GalenError(Exception):
    """Base of every expected failure. ``message`` is written for the person, not a developer."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_message(self) -> str:
        """One sentence (or two) that says what is wrong and what to do."""
        return f"{self.message} {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, object]:
        return {"type": type(self).__name__, "message": self.user_message()}


class InvalidInput(GalenError):
    """The person's input is wrong: a value out of range, an invalid SMILES, an empty question."""

    kind = "invalid_input"


class UnsupportedFile(InvalidInput):
    """A file that exists but is of a type Galen does not read."""

    kind = "unsupported_file"


class UnreadableFile(InvalidInput):
    """A file that is missing, empty, truncated or corrupt."""

    kind = "unreadable_file"


class MissingFacts(InvalidInput):
    """A tool needs facts that have not been given; ``missing`` names them for the agent to ask."""

    kind = "missing_facts"

    def __init__(self, message: str, *, missing: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.missing = list(missing)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "missing": self.missing}


class NotFound(InvalidInput):
    """A thread (or its file) that does not exist for this caller.

    Someone else's thread and a thread that never existed give the same error, so an id cannot
    be probed.
    """

    kind = "not_found"


class ModelUnavailable(GalenError):
    """Weights or an optional dependency that a tool needs is not installed."""

    kind = "model_unavailable"


class BackendUnavailable(GalenError):
    """The LLM server (or another service Galen talks to) cannot be reached."""

    kind = "backend_unavailable"


class PolicyRefusal(GalenError):
    """The request is outside Galen's intended use; ``alternative`` says what it can do instead."""

    kind = "policy_refusal"

    def __init__(self, message: str, *, alternative: str | None = None, rule: str | None = None) -> None:
        super().__init__(message, hint=alternative)
        self.alternative = alternative
        self.rule = rule


class ConfigError(GalenError):
    """Settings that contradict each other or point at something that does not exist."""

    kind = "config_error"

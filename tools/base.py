"""The contract every Galen tool follows.

A tool is a thin adapter: a pydantic argument model with field descriptions, a deterministic
argument extractor (used by the `semantic` routing policy), and ``run``, which makes one call
into a specialist or the knowledge base and returns a :class:`ToolResult`.

Expected failures are raised as :mod:`galen.errors` exceptions (``InvalidInput``,
``MissingFacts``, ``ModelUnavailable`` …); the agent's act step turns them into messages.
Anything else is a bug and propagates.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from galen.settings import Settings
from knowledge.types import Passage

ArtifactKind = Literal["image", "sdf", "csv", "nifti", "json", "html", "text"]


class Artifact(BaseModel):
    """A file a tool produced for the person to see or download."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="Absolute path of the file.")
    kind: ArtifactKind = Field(description="What the file is, for the UI to render it.")
    label: str = Field(description="One line shown with the file.")


class ToolResult(BaseModel):
    """What one tool call returns. Results are data: the UI and evals read ``data`` directly."""

    tool: str = Field(description="Tool name from the catalogue.")
    summary: str = Field(description="One short paragraph stating the findings, numbers included.")
    facts: list[str] = Field(
        default_factory=list,
        description="Short standalone statements (with their numbers and units) that an answer may "
        "repeat; the templated answer lists them.",
    )
    data: dict[str, Any] = Field(default_factory=dict, description="The structured result as JSON-able data.")
    artifacts: list[Artifact] = Field(default_factory=list)
    passages: list[Passage] = Field(
        default_factory=list, description="Knowledge passages the tool retrieved (search_guidelines)."
    )
    demo_model: bool = Field(False, description="True when a model trained on synthetic data produced it.")
    versions: dict[str, str] = Field(default_factory=dict, description="Model / specialist versions used.")
    warnings: list[str] = Field(default_factory=list, description="Caveats the answer must carry (OOD input…).")
    grounding_query: str | None = Field(
        None, description="Text the ground step should retrieve guideline passages for, e.g. "
        "'solid nodule 7 mm high-risk patient follow-up'."
    )


@dataclass
class Attachment:
    """A file the person attached, as stored in the case workspace."""

    path: Path
    name: str
    kind: str = "unknown"  # "dicom" | "dicom-zip" | "dicom-folder" | "nifti" | "image" | "csv" | "json" | "sdf" | "text"
    summary: str = ""
    sha256: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "name": self.name, "kind": self.kind, "summary": self.summary, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Attachment:
        return cls(path=Path(d["path"]), name=d["name"], kind=d.get("kind", "unknown"),
                   summary=d.get("summary", ""), sha256=d.get("sha256", ""))


@dataclass
class ToolContext:
    """What a tool may see besides its arguments.

    ``findings`` holds earlier tool results of this thread (newest last) as
    ``{"tool": name, "data": {...}}`` so follow-ups ("what is the risk of this nodule?") can use
    measured values. ``workdir`` is where this call writes its artifacts.
    """

    settings: Settings
    workdir: Path
    attachments: list[Attachment] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    question: str = ""
    #: ``fill(prompt, json_schema) -> object``: a schema-constrained LLM call the agent supplies for
    #: tools that let a language model read what their rules could not (None: no LLM available).
    fill: Callable[[str, dict[str, Any]], Any] | None = None
    #: ``progress(stage, fraction)``: long tools (imaging) report the stage running now and the
    #: share of the call done (0–1, never decreasing) for the CLI and UI to show (None: nobody listens).
    progress: Callable[[str, float], None] | None = None

    def latest_finding(self, tool: str) -> dict[str, Any] | None:
        for f in reversed(self.findings):
            if f.get("tool") == tool:
                return f.get("data")
        return None


class GalenTool(ABC):
    """Base class of the tools in the catalogue (DESIGN.md)."""

    name: ClassVar[str]
    description: ClassVar[str]
    args_model: ClassVar[type[BaseModel]]
    version: ClassVar[str] = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        """Whether the tool can run here and, if not, why (shown by ``galen doctor``)."""
        return True, "ready"

    @abstractmethod
    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        """Fill the arguments deterministically from the question, attachments and findings.

        Returns a dict for ``args_model``. Raises ``MissingFacts`` when required values cannot be
        found, naming them, so the agent asks instead of guessing.
        """

    @abstractmethod
    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        """Run the tool on validated arguments."""

    def validate_arguments(self, raw: dict[str, Any]) -> BaseModel:
        """Validate raw arguments, turning pydantic's errors into one ``InvalidInput``."""
        from pydantic import ValidationError

        from galen.errors import InvalidInput

        try:
            return self.args_model.model_validate(raw)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in e.errors()
            )
            raise InvalidInput(f"{self.name} got invalid arguments ({problems}).") from e


# --- helpers shared by extractors ---------------------------------------------------------------

_NUM = r"[-+−]?\d+(?:[.,]\d+)?"


def find_number(pattern: str, text: str, flags: int = re.IGNORECASE) -> float | None:
    """First number captured by ``pattern`` (which must contain a ``(?P<n>...)`` group)."""
    m = re.search(pattern.replace("{NUM}", _NUM), text, flags)
    if not m:
        return None
    return float(m.group("n").replace("−", "-").replace(",", "."))

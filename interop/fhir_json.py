"""Reading a FHIR JSON file with specific errors (shared by fact reading and de-identification)."""

from __future__ import annotations

import json
from pathlib import Path

from galen.errors import UnreadableFile, UnsupportedFile


def load_json(path: Path) -> dict:
    """The JSON object in ``path`` when it is a FHIR resource (it has a ``resourceType``).

    Raises:
        UnreadableFile: not UTF-8, or not valid JSON.
        UnsupportedFile: JSON, but not a FHIR resource.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"{path.name} is not UTF-8 text, so it is not FHIR JSON.") from e
    except json.JSONDecodeError as e:
        raise UnreadableFile(f"{path.name} is not valid JSON (line {e.lineno}: {e.msg}).") from e
    if not isinstance(data, dict) or "resourceType" not in data:
        raise UnsupportedFile(f"{path.name} is JSON but not a FHIR resource (no resourceType).",
                              hint="Attach a FHIR R4 Bundle or Patient/Observation/Condition/FamilyMemberHistory JSON.")
    return data

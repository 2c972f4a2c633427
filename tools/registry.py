"""The tool catalogue as a registry of lazy factories.

Each entry names the module and class that implement a tool; nothing is imported until a tool
is first asked for. A tool whose module or dependency is missing is reported as *off* with the
reason (``galen doctor``, start-up banner), never dropped silently.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

from galen.errors import ModelUnavailable
from tools.base import GalenTool

#: Stable tool names (DESIGN.md's catalogue) → "module:Class".
CATALOGUE: dict[str, str] = {
    "segment_image": "tools.imaging:SegmentImageTool",
    "classify_image": "tools.imaging:ClassifyImageTool",
    "nodule_malignancy_risk": "tools.clinical:NoduleMalignancyRiskTool",
    "clinical_risk": "tools.clinical:ClinicalRiskTool",
    "treatment_benefit": "tools.clinical:TreatmentBenefitTool",
    "search_guidelines": "tools.guidelines:SearchGuidelinesTool",
    "predict_properties": "tools.molecules:PredictPropertiesTool",
    "design_molecules": "tools.molecules:DesignMoleculesTool",
}

TOOL_NAMES: tuple[str, ...] = tuple(CATALOGUE)


@dataclass(frozen=True)
class ToolStatus:
    name: str
    available: bool
    reason: str
    version: str = ""


_lock = threading.Lock()
_instances: dict[str, GalenTool] = {}


def get_tool(name: str) -> GalenTool:
    """The tool instance for ``name`` (created on first use and cached).

    Raises:
        ModelUnavailable: the tool is unknown, not built in this version, or cannot load.
    """
    if name not in CATALOGUE:
        raise ModelUnavailable(f"There is no tool called {name!r}.", hint=f"Known tools: {', '.join(CATALOGUE)}.")
    with _lock:
        if name in _instances:
            return _instances[name]
        module_name, cls_name = CATALOGUE[name].split(":")
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, cls_name)
        except ModuleNotFoundError as e:
            if e.name and (e.name == module_name or module_name.startswith(e.name + ".")):
                raise ModelUnavailable(f"The tool {name} is not part of this version of Galen.") from e
            raise ModelUnavailable(f"The tool {name} needs the package {e.name!r}, which is not installed.") from e
        except AttributeError as e:
            raise ModelUnavailable(f"The tool {name} is not part of this version of Galen.") from e
        tool = cls()
        _instances[name] = tool
        return tool


def tool_status(name: str) -> ToolStatus:
    """Whether ``name`` can run here, and why not."""
    try:
        tool = get_tool(name)
    except ModelUnavailable as e:
        return ToolStatus(name, False, e.user_message())
    ok, reason = tool.availability()
    return ToolStatus(name, ok, reason, tool.version)


def all_status() -> list[ToolStatus]:
    return [tool_status(n) for n in CATALOGUE]


def available_tools() -> list[GalenTool]:
    """The tools that can run here, in catalogue order."""
    return [get_tool(s.name) for s in all_status() if s.available]

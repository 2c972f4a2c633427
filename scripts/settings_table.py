"""Regenerate the README's settings table from galen.settings.Settings.

Usage: python scripts/settings_table.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from galen.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def table() -> str:
    rows = ["| environment variable | default | description |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default
        if hasattr(default, "get_secret_value"):
            default = "(secret)"
        shown = "" if default is None else str(default).replace(str(Path.home()), "~")
        rows.append(f"| `GALEN_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows)


def main() -> int:
    text = README.read_text()
    new = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), BEGIN + "\n" + table() + "\n" + END, text, flags=re.S)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())

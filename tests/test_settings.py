"""Settings: every field described and documented in the README; env and TOML sources work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from galen.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_described_and_in_the_readme(name: str) -> None:
    assert Settings.model_fields[name].description, name
    assert f"`GALEN_{name.upper()}`" in README, f"GALEN_{name.upper()} is missing from the README's settings table"


def test_environment_and_toml(tmp_path, monkeypatch) -> None:
    toml = tmp_path / "galen.toml"
    toml.write_text('routing_policy = "hybrid"\nkb_top_k = 7\n')
    monkeypatch.setenv("GALEN_CONFIG", str(toml))
    monkeypatch.setenv("GALEN_KB_TOP_K", "5")
    s = Settings()
    assert s.routing_policy == "hybrid" and s.kb_top_k == 5  # environment beats the file


def test_unknown_and_invalid_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)
    with pytest.raises(ValidationError):
        Settings(llm_backend="gpt-9")


def test_auto_writer_drafts_only_on_a_served_model() -> None:
    from galen.settings import Settings

    assert Settings().writes_with_llm() is False  # embedded SmolLM2: the template is shown directly
    assert Settings(llm_backend="openai").writes_with_llm() is True
    assert Settings(answer_writer="llm").writes_with_llm() is True
    assert Settings(llm_backend="openai", answer_writer="template").writes_with_llm() is False

"""Galen's one settings object.

Values come, highest priority first, from: arguments passed in code, ``GALEN_*`` environment
variables, a TOML file (``galen.toml`` in the working directory, or the path in
``GALEN_CONFIG``), then the defaults below. Every field is described here and listed in the
README (a test keeps the two in step).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _toml_path() -> Path:
    return Path(os.environ.get("GALEN_CONFIG", "galen.toml"))


class Settings(BaseSettings):
    """All of Galen's settings (environment prefix ``GALEN_``)."""

    model_config = SettingsConfigDict(env_prefix="GALEN_", extra="forbid", validate_default=True)

    # --- LLM -------------------------------------------------------------------------------
    llm_backend: Literal["embedded", "openai"] = Field(
        "embedded",
        description="Which chat model answers: `embedded` (llama.cpp in-process, offline) or "
        "`openai` (any OpenAI-compatible server such as vLLM or llama.cpp's server).",
    )
    embedded_model: Literal["smollm2-135m-instruct"] = Field(
        "smollm2-135m-instruct",
        description="The GGUF model the embedded backend loads from its PyPI package.",
    )
    embedded_model_path: Path | None = Field(
        None,
        description="A GGUF file to load instead of the packaged model (must have a chat template).",
    )
    embedded_n_ctx: int = Field(4096, ge=512, le=131072, description="Context window (tokens) of the embedded model.")
    embedded_threads: int | None = Field(
        None, ge=1, description="CPU threads for the embedded model; empty means all cores."
    )
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1",
        description="Base URL of the OpenAI-compatible server (for vLLM: `http://HOST:8000/v1`).",
    )
    openai_model: str = Field("galen", description="Model name to request from the OpenAI-compatible server.")
    openai_api_key: SecretStr = Field(
        SecretStr("not-needed"), description="API key for the OpenAI-compatible server (vLLM accepts any)."
    )
    openai_timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the OpenAI-compatible server.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature for every LLM call.")
    answer_max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens the LLM may write for one answer.")
    answer_writer: Literal["auto", "llm", "template"] = Field(
        "auto",
        description="Who phrases the answer: `llm` (checked by the verifier, template fallback), "
        "`template` (always the fixed, fully grounded template) or `auto` (`llm` on the `openai` backend, "
        "`template` on `embedded`, whose 135M model's drafts almost never pass the verifier).",
    )

    def writes_with_llm(self) -> bool:
        """Whether the answer step asks the LLM for a draft (see ``answer_writer``)."""
        if self.answer_writer == "auto":
            return self.llm_backend == "openai"
        return self.answer_writer == "llm"

    # --- Agent -----------------------------------------------------------------------------
    routing_policy: Literal["llm", "semantic", "hybrid"] = Field(
        "semantic",
        description="How tools are chosen: `llm` (native tool calling), `semantic` (embedding "
        "router + deterministic argument extraction) or `hybrid` (router proposes, LLM picks).",
    )
    routing_top_k: int = Field(3, ge=1, le=8, description="Candidate tools the hybrid policy offers the LLM.")
    routing_min_similarity: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Below this similarity to every exemplar, no tool is called. Unset: the router's "
        "own floor for the encoder that decided (agent/data/route_cues.yaml, tuned on the dev split).",
    )
    routing_confirm_margin: float = Field(
        0.03,
        ge=0,
        le=1,
        description="If the best two tool choices score closer than this, the answer notes the "
        "routing was uncertain.",
    )
    confirm_facts: bool = Field(
        True,
        description="Pause before a risk model runs on facts read from free text (or assumed, or from a FHIR "
        "record), show each fact with its source, and run on what the clinician accepts or corrects; facts a "
        "model cannot do without are asked for the same way. `galen ask --yes` accepts what was read.",
    )
    max_tool_calls: int = Field(4, ge=1, le=16, description="Most tool calls the agent makes in one turn.")

    # --- Storage ---------------------------------------------------------------------------
    data_dir: Path = Field(
        Path("~/.galen").expanduser(),
        description="Folder for threads (SQLite), the audit log, the case workspace and the local "
        "knowledge store.",
    )
    checkpointer: Literal["sqlite", "postgres"] = Field(
        "sqlite",
        description="Where conversation threads are stored: `sqlite` (a file in the data directory) or "
        "`postgres` (a shared PostgreSQL database, for several app replicas).",
    )
    postgres_url: SecretStr | None = Field(
        None,
        description="PostgreSQL connection URL for `checkpointer = postgres`, e.g. "
        "`postgresql://galen:PASSWORD@db-host:5432/galen`.",
    )
    device: Literal["cpu", "cuda"] = Field("cpu", description="Where specialist models run.")

    # --- Knowledge base --------------------------------------------------------------------
    chroma_host: str | None = Field(
        None, description="Chroma server host; empty means a local `PersistentClient` in the data directory."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port (with `chroma_host`).")
    kb_collection: str = Field("galen-guidelines", description="Chroma collection holding the guideline chunks.")
    kb_top_k: int = Field(4, ge=1, le=20, description="Passages retrieved to ground one answer.")
    kb_max_file_mb: float = Field(20.0, gt=0, description="Largest document `galen kb ingest` accepts (MB).")
    kb_embed_precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="Precision of MiniLM when ingesting passages: bf16 is about 3x faster on CPUs with native "
        "bfloat16 (AVX512-BF16 or AMX; auto uses it there) and gives vectors within cosine 0.9999 of fp32; questions "
        "are always embedded in fp32.")
    kb_auto_index: bool = Field(
        True,
        description="Index the shipped guideline corpus into the knowledge store on first use (skipped "
        "quickly when it is already indexed and unchanged).",
    )

    # --- Imaging ---------------------------------------------------------------------------
    imaging_seg_bundle: Path | None = Field(
        None, description="A MONAI bundle folder to use for segmentation instead of the shipped one."
    )
    imaging_cls_bundle: Path | None = Field(
        None, description="A MONAI bundle folder to use for lesion characterisation instead of the shipped one."
    )
    max_attachment_mb: float = Field(
        512.0, gt=0, description="Largest attachment accepted (MB); larger files are refused with a message."
    )

    # --- Hospital systems (interop/) -------------------------------------------------------
    pacs_url: str | None = Field(
        None,
        description="DICOMweb root of the PACS (QIDO-RS, WADO-RS, STOW-RS), e.g. `http://pacs-host:8042/dicom-web` "
        "for Orthanc; empty means no PACS. Studies larger than `max_attachment_mb` (estimated from their "
        "metadata) are refused before download.",
    )
    pacs_username: str | None = Field(None, description="User name for HTTP Basic authentication at the PACS.")
    pacs_password: SecretStr | None = Field(None, description="Password for HTTP Basic authentication at the PACS.")
    pacs_timeout_s: float = Field(30.0, gt=0, le=600, description="Seconds to wait for one PACS request.")
    fhir_export_dir: Path | None = Field(
        None,
        description="Folder where FHIR result Bundles (RiskAssessment, Observation, DiagnosticReport) are "
        "written; empty means `<data_dir>/exports`.",
    )

    # --- Molecules -------------------------------------------------------------------------
    design_method: Literal["ga", "reinvent"] = Field(
        "ga",
        description="Search used by `design_molecules`: `ga` (graph-based genetic algorithm) or `reinvent` "
        "(reinforcement learning of the SELFIES language-model prior).",
    )
    design_time_budget_s: float = Field(
        45.0, gt=0, le=3600, description="Wall-clock limit of one molecule-design search (seconds)."
    )
    design_oracle_budget: int = Field(
        4000, ge=10, le=100000, description="Most candidate molecules one design search may score."
    )
    design_chem_filter: bool = Field(
        True,
        description="Chemical-sense filter on designed molecules by default: unstable or reactive groups, unknown "
        "cages and rare alerts are removed (a request can turn it off in words).",
    )
    design_llm_fill: bool = Field(
        True,
        description="Let the LLM read the parts of a design request the rule-based parser could not "
        "(schema-constrained; each value must be written in the request and its property named there; "
        "what it read is echoed back, what stays unread is reported as not applied).",
    )

    # --- UI --------------------------------------------------------------------------------
    ui_host: str = Field("127.0.0.1", description="Address the chat UI binds to.")
    ui_port: int = Field(7860, ge=1, le=65535, description="Port of the chat UI.")
    ui_users_file: Path | None = Field(
        None,
        description="File of `username:password-hash` lines; when set the UI asks for a login and "
        "each user sees only their threads.",
    )

    ui_cache_max_age_h: float = Field(
        24.0, gt=0,
        description="Hours the UI keeps uploaded files and published result files in its cache "
        "(`<data_dir>/ui-cache`, owner-only) before deleting them; uploads are deleted as soon as "
        "their turn has stored the de-identified copy.",
    )
    login_max_failures: int = Field(
        20, ge=3,
        description="Failed logins in a row after which a username (or client address) is locked out "
        "for `login_lockout_s`; from the 5th failure on, attempts are also slowed (1 s, 2 s, 4 s ... up to 30 s).",
    )
    login_lockout_s: float = Field(900.0, gt=0, description="Seconds a locked-out username or client stays locked.")

    # --- Privacy ---------------------------------------------------------------------------
    keep_raw_text: bool = Field(
        False,
        description="Keep the unscrubbed question text in the thread store and in the UI's case "
        "reports (the audit log is always scrubbed).",
    )

    # --- Archives ---------------------------------------------------------------------------
    max_unpacked_mb: float = Field(
        2048.0, gt=0,
        description="Most megabytes an attached archive (a zip of a DICOM series) may unpack to; "
        "counted while unpacking, whatever the archive declares.",
    )
    max_unpack_ratio: float = Field(
        50.0, gt=1,
        description="Most an attached archive may grow when unpacked (unpacked bytes / archive bytes); "
        "a higher ratio is refused as a likely zip bomb.",
    )

    # --- Trust --------------------------------------------------------------------------------
    trust_bundle_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders whose MONAI bundles may be loaded (a bundle's config can run Python: only "
        "list folders you control). `GALEN_IMAGING_SEG_BUNDLE`/`_CLS_BUNDLE` outside them are refused. "
        "As an environment variable, a JSON list: `[\"/srv/bundles\"]`.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_toml_path()))

    @model_validator(mode="after")
    def _bundles_are_trusted(self) -> Settings:
        """A MONAI bundle is code (its config can run Python): load one only from a trusted folder."""
        trusted = [Path(t).expanduser().resolve() for t in self.trust_bundle_dirs]
        for name in ("imaging_seg_bundle", "imaging_cls_bundle"):
            bundle = getattr(self, name)
            if bundle is None:
                continue
            where = Path(bundle).expanduser().resolve()
            if not any(where == t or t in where.parents for t in trusted):
                raise ValueError(
                    f"{name} = {bundle} is not inside a trusted folder. A MONAI bundle's config can run Python "
                    f"code, so Galen loads one only from a folder listed in GALEN_TRUST_BUNDLE_DIRS "
                    f"(for example GALEN_TRUST_BUNDLE_DIRS='[\"{where.parent}\"]') — list only folders you control")
        return self

    def resolved_data_dir(self) -> Path:
        """The data directory, created with owner-only permissions."""
        from galen.files import private_dir

        return private_dir(self.data_dir)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings(...)`` instead."""
    return Settings()

"""The PACS tab of the workspace: find a study, analyse it, and send the results back after confirming.

Shown only when ``GALEN_PACS_URL`` is set. The study list, the chosen study and the prepared
results live in server-side ``gr.State``: the browser names a row of the list it was shown, never a
study UID, a folder or a file. Results go back to the PACS (STOW-RS) only when the person presses
"Send to PACS" after seeing what will be sent. The functions doing the work are in
:mod:`ui.pacs_panel` (shared with the CLI).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from galen.errors import GalenError
from galen.settings import Settings
from ui import panels, uploads
from ui.i18n import t


class PacsTab:
    """Handlers of the PACS tab, bound to the app's settings (no per-person state here)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.pacs_url)

    def on_find(self, patient_id: str, accession: str, modality: str, date: str, lang: str):
        from ui.pacs_panel import picker_table

        try:
            columns, rows = picker_table(self.settings, patient_id=patient_id.strip() or None,
                                         accession=accession.strip() or None, modality=modality.strip() or None,
                                         date=date.strip() or None)
        except GalenError as e:
            return gr.update(value=None), [], panels.error_markdown(e.user_message(), lang)
        note = t(lang, "pacs_found", n=len(rows)) if rows else t(lang, "pacs_none")
        return gr.update(value={"headers": columns, "data": rows}), rows, note

    def on_pick(self, rows: list[list[str]], lang: str, evt: gr.SelectData):
        """A row of the shown list chosen: retrieve its image series (size checked before download)."""
        from ui.pacs_panel import fetch_for_turn

        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not isinstance(index, int) or not 0 <= index < len(rows or []):
            return None, t(lang, "pacs_pick")
        study_uid = rows[index][-1]
        try:
            fetched = fetch_for_turn(self.settings, study_uid=study_uid)
        except GalenError as e:
            return None, panels.error_markdown(e.user_message(), lang)
        return fetched, fetched.describe() + " " + t(lang, "pacs_ask_now")

    def after_turn(self, fetched: Any, result: Any, lang: str) -> tuple[Any, str, Any, Any]:
        """SEG, SR and FHIR written for a turn on a PACS study: (prepared, summary, downloads, send button)."""
        from ui.pacs_panel import results_for_turn

        if fetched is None:
            return None, "", gr.update(), gr.update(visible=False)
        try:
            prepared = results_for_turn(self.settings, fetched, result)
        except GalenError as e:
            return None, panels.error_markdown(e.user_message(), lang), gr.update(), gr.update(visible=False)
        files = uploads.publish([str(p) for _, p in prepared.downloads()])
        summary = prepared.summary + "".join(f"\n\n{n}" for n in prepared.notes) + "\n\n" + t(lang, "pacs_not_sent")
        return prepared, summary, gr.update(value=files, visible=bool(files)), gr.update(visible=True)

    def on_send(self, prepared: Any, lang: str):
        """The only way results reach the PACS from the UI: this button, after they were shown."""
        from ui.pacs_panel import confirm_push

        if prepared is None:
            return t(lang, "pacs_nothing"), gr.update(visible=False)
        try:
            return confirm_push(self.settings, prepared), gr.update(visible=False)
        except GalenError as e:
            return panels.error_markdown(e.user_message(), lang), gr.update(visible=True)

    def build(self, lang0: str) -> dict[str, Any]:
        """Create the tab's components (inside a ``gr.Tab`` context); returns them by name."""
        c: dict[str, Any] = {}
        with gr.Row():
            c["patient"] = gr.Textbox(label=t(lang0, "pacs_patient"), elem_id="pacs-patient", scale=1)
            c["accession"] = gr.Textbox(label=t(lang0, "pacs_accession"), elem_id="pacs-accession", scale=1)
            c["modality"] = gr.Textbox(label=t(lang0, "pacs_modality"), value="CT", elem_id="pacs-modality", scale=0)
            c["date"] = gr.Textbox(label=t(lang0, "pacs_date"), placeholder="YYYYMMDD[-YYYYMMDD]", elem_id="pacs-date", scale=1)
        c["find"] = gr.Button(t(lang0, "pacs_find"), elem_id="pacs-find")
        c["table"] = gr.Dataframe(interactive=False, elem_id="pacs-studies", wrap=True)
        c["note"] = gr.Markdown("", elem_id="pacs-note")
        c["results"] = gr.Markdown("", elem_id="pacs-results")
        c["files"] = gr.File(file_count="multiple", interactive=False, visible=False, elem_id="pacs-files")
        c["send"] = gr.Button(t(lang0, "pacs_send"), variant="primary", visible=False, elem_id="pacs-send")
        c["rows"] = gr.State([])
        c["prepared"] = gr.State(None)
        return c

"""The case workspace in a real browser (Debian's Chromium driven by Playwright).

One app process serves every scenario of this module; scenarios whose capability is not
available here skip themselves, with the tool's own reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import ask, chat_text, open_page, screenshot, show_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _tool_off(name: str) -> str | None:
    from tools.registry import tool_status

    status = tool_status(name)
    return None if status.available else f"{name} is not available here: {status.reason}"


@pytest.fixture(scope="module")
def app(app_servers):
    app_servers["open"].wait()
    return app_servers["open"]


def test_property_question_shows_logp_in_table(browser, app):
    page = open_page(browser, app.url)
    text = ask(page, "What is the logP of CC(=O)Oc1ccccc1C(=O)O?")
    assert "logP 1.31" in text
    show_tab(page, "molecules")
    table = page.inner_text("#galen-table")
    screenshot(page, "1_property_table")
    assert "logP" in table and "1.31" in table and "CC(=O)Oc1ccccc1C(=O)O" in table
    assert "predict_properties" in page.inner_text("#galen-steps")


def test_phantom_ct_shows_overlay_and_diameter(browser, app, tmp_path):
    reason = _tool_off("segment_image")
    if reason:
        pytest.skip(reason)
    from specialists.imaging.phantom import WORKING_SPACING, make_phantom, write_phantom_nifti

    ph = make_phantom(5, shape=(40, 128, 128), spacing=WORKING_SPACING, diameters_mm=[9.0], kinds=["solid"],
                      shapes=["round"])
    ct = write_phantom_nifti(ph, tmp_path / "phantom_ct.nii.gz")
    page = open_page(browser, app.url)
    text = ask(page, "Segment the nodule on this CT and give its diameter.", files=[Path(ct)], timeout_s=240)
    show_tab(page, "images")
    img = page.locator("#galen-image img")
    screenshot(page, "2_phantom_overlay")
    assert "mm" in text and "diameter" in text.lower()
    assert "phantom_ct.nii.gz: " in text  # the stored study, summarised under the question
    assert img.count() >= 1 and (img.first.get_attribute("src") or "")
    assert "DEMO MODEL" in text  # the segmentation bundle was trained on synthetic phantoms


def test_design_request_shows_grid_and_sdf(browser, app):
    reason = _tool_off("design_molecules")
    if reason:
        pytest.skip(reason)
    page = open_page(browser, app.url)
    ask(page, "Design 5 analogs of ibuprofen CC(C)Cc1ccc(cc1)C(C)C(=O)O with logP under 4.", timeout_s=300)
    show_tab(page, "molecules")
    grid = page.locator("#galen-grid img")
    table = page.inner_text("#galen-table")
    screenshot(page, "3_design_grid")
    assert grid.count() >= 1 and "SMILES" in table
    show_tab(page, "downloads")
    links = [a.get_attribute("href") or "" for a in page.locator("#galen-files a").all()]
    assert any(h.endswith(".sdf") for h in links) and any(h.endswith("case_report.md") for h in links), links


def test_guideline_question_cites_fleischner(browser, app):
    reason = _tool_off("search_guidelines")
    if reason:
        pytest.skip(reason)
    page = open_page(browser, app.url)
    ask(page, "What follow-up does the Fleischner guideline recommend for a 7 mm solid nodule in a high-risk patient?")
    show_tab(page, "citations")
    cites = page.inner_text("#galen-citations")
    screenshot(page, "4_fleischner_citations")
    assert "fleischner-2017" in cites


def test_bad_file_gives_clear_error_then_next_question_works(browser, app, tmp_path):
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"PK\x03\x04 not really a document")
    page = open_page(browser, app.url)
    text = ask(page, "Segment the nodule in this file.", files=[bad])
    assert "Could not answer" in text and "notes.docx" in text and "Traceback" not in text
    text = ask(page, "What is the logP of CCO?")
    screenshot(page, "5_bad_file_then_ok")
    assert "logP" in text.split("What is the logP of CCO?")[-1]


def test_two_browsers_keep_their_own_open_thread(browser, app):
    # Without a users file Galen is single-user: both browsers list the same threads, but each
    # keeps its own conversation open (the history shown is read from the server, per thread).
    a = open_page(browser, app.url)
    b = open_page(browser, app.url)
    ask(a, "What is the logP of c1ccccc1O?")
    ask(b, "What is the TPSA of CC(=O)Nc1ccc(O)cc1?")
    a.reload()
    a.wait_for_selector("#galen-input textarea")
    a.wait_for_timeout(1500)
    screenshot(a, "6_context_a")
    screenshot(b, "6_context_b")
    assert "c1ccccc1O" in chat_text(a) and "CC(=O)Nc1ccc(O)cc1" not in chat_text(a)
    assert "CC(=O)Nc1ccc(O)cc1" in chat_text(b) and "c1ccccc1O" not in chat_text(b)
    assert "c1ccccc1O" in b.inner_text("#galen-threads") and "CC(=O)Nc1ccc(O)cc1" in a.inner_text("#galen-threads")


def test_reload_keeps_the_thread(browser, app):
    page = open_page(browser, app.url)
    ask(page, "What is the molecular weight of CC(C)Cc1ccc(cc1)C(C)C(=O)O?")
    page.reload()
    page.wait_for_selector("#galen-input textarea")
    page.wait_for_function("(document.querySelector('#galen-chat')?.innerText || '').includes('206.')",
                           timeout=30_000)
    screenshot(page, "7_after_reload")
    assert "CC(C)Cc1ccc(cc1)C(C)C(=O)O" in page.inner_text("#galen-threads")
    assert "206." in chat_text(page)


def test_language_switch_to_chinese(browser, app):
    page = open_page(browser, app.url)
    page.get_by_text("中文", exact=True).click()
    page.wait_for_function("(document.querySelector('#galen-header')?.innerText || '').includes('病例工作台')",
                           timeout=20_000)
    screenshot(page, "9_chinese_interface")
    assert "新对话" in page.inner_text("#galen-new") and "预期用途" in page.inner_text("#galen-header")

"""Chinese in the browser: a Chinese question gets a Chinese answer with its evidence panels, and the
interface follows the question's language unless the person picked one (Debian's Chromium, Playwright).
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import WORKING, chat_text, open_page, screenshot, show_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: what the chat shows while a turn runs, in both interface languages
BUSY = [*WORKING, "处理中…", "草稿，正在核对"]


@pytest.fixture(scope="module")
def app(app_servers):
    app_servers["open"].wait()
    return app_servers["open"]


def _need(tool: str) -> None:
    from tools.registry import tool_status

    status = tool_status(tool)
    if not status.available:
        pytest.skip(f"{tool} is not available here: {status.reason}")


def ask(page, question: str, timeout_s: float = 180.0) -> str:
    """Send ``question`` and wait for the final reply (the working marker gone in either language)."""
    before = chat_text(page).count(question)
    page.fill("#galen-input textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        """([q, n, busy]) => {
            const t = document.querySelector('#galen-chat')?.innerText || '';
            const box = document.querySelector('#galen-input textarea');
            return t.split(q).length - 1 > n && !busy.some(w => t.includes(w)) && box && !box.disabled;
        }""",
        arg=[question, before, BUSY], timeout=timeout_s * 1000)
    page.wait_for_timeout(700)
    return chat_text(page)


def test_a_chinese_question_gets_a_chinese_answer_with_its_evidence(browser, app) -> None:
    _need("search_guidelines")
    page = open_page(browser, app.url)
    question = "Fleischner：单发实性结节9毫米，低危患者，下一步怎么处理？"
    answer = ask(page, question).split(question)[-1]
    screenshot(page, "zh_1_chinese_answer")
    # the decision row in Chinese, with the guideline's numbers and its citation
    assert "Fleischner 2017，单发实性结节>8 mm" in answer and "3个月" in answer and "[1]" in answer, answer
    assert "依据" in answer and "来源 [1]" in answer
    # the interface followed the question's language (the person picked none)
    page.wait_for_function("(document.querySelector('#galen-header')?.innerText || '').includes('病例工作台')",
                           timeout=20_000)
    assert "新对话" in page.inner_text("#galen-new")
    assert "search_guidelines" in page.inner_text("#galen-steps")
    show_tab(page, "citations")
    cites = page.inner_text("#galen-citations")
    screenshot(page, "zh_2_citations")
    assert "fleischner-2017" in cites and "Single solid nodule" in cites


def test_a_picked_interface_language_stays_while_the_answer_follows_the_question(browser, app) -> None:
    _need("predict_properties")
    page = open_page(browser, app.url)
    page.get_by_text("中文", exact=True).click()
    page.wait_for_timeout(500)
    page.get_by_text("English", exact=True).click()  # the person picks English
    page.wait_for_function("(document.querySelector('#galen-header')?.innerText || '').includes('case workspace')",
                           timeout=20_000)
    question = "CC(=O)Oc1ccccc1C(=O)O 的 logP 是多少？"
    answer = ask(page, question).split(question)[-1]
    screenshot(page, "zh_3_picked_english")
    assert "分子性质" in answer and "logP（Crippen） 1.31" in answer, answer  # the answer is Chinese
    assert "case workspace" in page.inner_text("#galen-header")  # the interface stays English
    show_tab(page, "molecules")
    table = page.inner_text("#galen-table")
    assert "CC(=O)Oc1ccccc1C(=O)O" in table and "1.31" in table

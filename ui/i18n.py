"""Every string the chat UI shows, one dict per language (English and Chinese).

Keys are shared; a missing key in one language falls back to English, and a test checks that
both dicts have the same keys.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "title": "Galen — case workspace",
    "language": "Language",
    "backend": "LLM backend",
    "model": "model",
    "tools_on": "Tools available",
    "tools_off": "Tools off",
    "intended_use": "Intended use",
    "threads": "Conversations",
    "new_thread": "New conversation",
    "no_threads": "No conversations yet.",
    "message": "Ask a question; attach DICOM, a zipped series, NIfTI, PNG/JPEG, CSV or SDF",
    "placeholder": "e.g. What is the logP of CC(=O)Oc1ccccc1C(=O)O?",
    "chat": "Conversation",
    "tab_images": "Images",
    "tab_molecules": "Molecules",
    "tab_citations": "Citations",
    "tab_steps": "Tool steps",
    "tab_downloads": "Downloads",
    "slice": "Image",
    "molecule_table": "Results (click a column header to sort)",
    "grid": "Molecule grid",
    "no_citations": "No passages cited in this turn.",
    "no_steps": "No tool was called in this turn.",
    "downloads": "Files from this turn and the case report",
    "demo_badge": "DEMO MODEL — trained on synthetic data; not for clinical use",
    "draft": "draft, being checked…",
    "working": "Working…",
    "attached": "Attached",
    "error": "Could not answer",
    "too_large": "{name} is {size:.1f} MB; the upload limit is {limit:.0f} MB. Send a smaller file or series.",
    "unverified": "Some statements in the draft could not be checked against the evidence; this grounded summary is shown instead.",
    "warnings": "Warnings",
    "refusal": "Outside Galen's intended use",
    "report_title": "Galen case report",
    "question": "Question",
    "answer": "Answer",
    "sources": "Sources",
    "files": "Files",
    "thread": "Conversation",
    "signed_in": "Signed in as",
    "empty_question": "Type a question first.",
    "method_template": "Templated answer: built only from the tool results and quoted passages (no language-model text).",
    "method_draft_verified": "Written by the language model; every number and citation was checked against the evidence.",
    "verification": "answer check",
    "upload_refused": "A file in this message was not uploaded through this page, so it was not read. Attach the file again with the paperclip.",
    "internal_error": "Something went wrong inside Galen while answering; the details are in the server log. Try again or start a new conversation.",
}

ZH: dict[str, str] = {
    "title": "Galen — 病例工作台",
    "language": "语言",
    "backend": "语言模型后端",
    "model": "模型",
    "tools_on": "可用工具",
    "tools_off": "不可用工具",
    "intended_use": "预期用途",
    "threads": "对话",
    "new_thread": "新对话",
    "no_threads": "还没有对话。",
    "message": "输入问题；可附加 DICOM、压缩的序列、NIfTI、PNG/JPEG、CSV 或 SDF 文件",
    "placeholder": "例如：CC(=O)Oc1ccccc1C(=O)O 的 logP 是多少？",
    "chat": "对话",
    "tab_images": "图像",
    "tab_molecules": "分子",
    "tab_citations": "引用",
    "tab_steps": "工具步骤",
    "tab_downloads": "下载",
    "slice": "图像",
    "molecule_table": "结果（点击列标题排序）",
    "grid": "分子网格图",
    "no_citations": "本轮没有引用的段落。",
    "no_steps": "本轮没有调用工具。",
    "downloads": "本轮生成的文件和病例报告",
    "demo_badge": "演示模型——基于合成数据训练，不可用于临床",
    "draft": "草稿，正在核对…",
    "working": "处理中…",
    "attached": "已附加",
    "error": "无法回答",
    "too_large": "{name} 大小为 {size:.1f} MB，上传上限为 {limit:.0f} MB。请发送更小的文件或序列。",
    "unverified": "草稿中有内容无法与证据核对，因此显示以下有依据的摘要。",
    "warnings": "警告",
    "refusal": "超出 Galen 的预期用途",
    "report_title": "Galen 病例报告",
    "question": "问题",
    "answer": "回答",
    "sources": "来源",
    "files": "文件",
    "thread": "对话",
    "signed_in": "当前用户",
    "empty_question": "请先输入问题。",
    "method_template": "模板回答：仅由工具结果和引用的指南段落组成（无语言模型生成的文字）。",
    "method_draft_verified": "由语言模型撰写；每个数字和引用都已与证据核对。",
    "verification": "回答核查",
    "upload_refused": "此消息中的文件不是通过本页面上传的，因此未被读取。请用回形针按钮重新附加文件。",
    "internal_error": "Galen 在回答时内部出错，详情见服务器日志。请重试或开始新对话。",
}

STRINGS: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
LANGUAGES: list[tuple[str, str]] = [("English", "en"), ("中文", "zh")]


def t(lang: str, key: str, **fmt: object) -> str:
    """The interface string ``key`` in ``lang`` (English when either is unknown), formatted."""
    text = STRINGS.get(lang, EN).get(key) or EN[key]
    return text.format(**fmt) if fmt else text

from __future__ import annotations

import pytest

from galen.settings import Settings
from tools.base import ToolContext


@pytest.fixture
def ctx(tmp_path):
    def make(findings=None, attachments=None, question=""):
        return ToolContext(settings=Settings(), workdir=tmp_path, attachments=attachments or [],
                           findings=findings or [], question=question)
    return make

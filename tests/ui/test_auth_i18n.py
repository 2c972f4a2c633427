"""Password hashing for the optional login, and the interface strings in both languages."""

from __future__ import annotations

import re

import pytest

from ui import auth, i18n


def test_hash_verify_roundtrip_and_salting():
    h1, h2 = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert h1 != h2 and h1.startswith("scrypt$")
    assert auth.verify_password("correct horse", h1) and auth.verify_password("correct horse", h2)
    assert not auth.verify_password("wrong", h1)
    assert not auth.verify_password("correct horse", "scrypt$garbage")
    with pytest.raises(ValueError):
        auth.hash_password("")


def test_load_users_and_checker(tmp_path):
    f = tmp_path / "users"
    f.write_text(f"# team\nalice:{auth.hash_password('a-secret')}\n\nbob:{auth.hash_password('b-secret')}\n")
    assert set(auth.load_users(f)) == {"alice", "bob"}
    check = auth.make_checker(f)
    assert check("alice", "a-secret") and not check("alice", "b-secret") and not check("carol", "a-secret")
    f.write_text("alice:plaintext\n")
    with pytest.raises(ValueError, match="line 1"):
        auth.load_users(f)
    f.write_text("# nobody\n")
    with pytest.raises(ValueError, match="no users"):
        auth.load_users(f)


def test_languages_have_the_same_keys_and_placeholders():
    assert set(i18n.EN) == set(i18n.ZH)
    for key, text in i18n.EN.items():
        assert re.findall(r"{(\w+)", text) == re.findall(r"{(\w+)", i18n.ZH[key]), key
    assert i18n.t("zh", "new_thread") == "新对话" and i18n.t("xx", "new_thread") == "New conversation"
    assert "3.0 MB" in i18n.t("en", "too_large", name="a.dcm", size=3.0, limit=2)

"""Optional access control for a shared deployment of the chat UI.

The users file holds one ``username:hash`` line per person (``#`` starts a comment). A hash is
``scrypt$<n>$<r>$<p>$<salt hex>$<key hex>``, made by :func:`hash_password` (standard library
``hashlib.scrypt``; no third-party dependency, no default password anywhere). Create a line with::

    python -m ui.auth alice   # prompts for the password, prints "alice:scrypt$..."
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import secrets
import sys
from pathlib import Path

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MB and tens of ms per check, fine for a login form
_SCHEME = "scrypt"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash ``password`` for the users file.

    Args:
        password: the plain password (not empty).
        salt: fixed salt for reproducible tests; random 16 bytes otherwise.

    Returns:
        ``scrypt$n$r$p$salt$key`` (hex fields).
    """
    if not password:
        raise ValueError("An empty password cannot be hashed.")
    salt = salt if salt is not None else secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt_hex, key_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p),
                             dklen=len(key_hex) // 2)
    except ValueError:  # malformed line or parameters: never a match
        return False
    return hmac.compare_digest(key.hex(), key_hex)


def load_users(path: Path | str) -> dict[str, str]:
    """Read ``username:hash`` lines; raises ``ValueError`` naming the first bad line."""
    users: dict[str, str] = {}
    for i, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not name.strip() or not stored.startswith(_SCHEME + "$"):
            raise ValueError(f"{path}, line {i}: expected 'username:scrypt$...' (make one with python -m ui.auth NAME).")
        users[name.strip()] = stored.strip()
    if not users:
        raise ValueError(f"{path} lists no users; add 'username:hash' lines or unset GALEN_UI_USERS_FILE.")
    return users


def make_checker(path: Path | str):
    """A ``(username, password) -> bool`` callable for Gradio's ``auth=``; reads the file once."""
    users = load_users(path)

    def check(username: str, password: str) -> bool:
        stored = users.get(username)
        return stored is not None and verify_password(password, stored)

    return check


def main(argv: list[str] | None = None) -> int:
    """Print a users-file line for the given username, prompting for the password twice."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or ":" in args[0]:
        print("usage: python -m ui.auth USERNAME", file=sys.stderr)
        return 2
    first = getpass.getpass("password: ")
    if not first or first != getpass.getpass("again: "):
        print("The passwords are empty or do not match.", file=sys.stderr)
        return 1
    print(f"{args[0]}:{hash_password(first)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

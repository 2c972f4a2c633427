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
import logging
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("galen.auth")

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


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password with the same cost as real ones: an unknown username is checked
    against it, so a login for a name that does not exist takes as long as one that does."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginGuard:
    """Throttles and locks out repeated failed logins, per username and per client address.

    After ``free`` failures in a row every further attempt must wait ``delay_s · 2^(n - free)``
    (capped at ``max_delay_s``) since the last failure, or it is refused without checking the
    password; after ``lock_after`` failures in a row the name (or address) is locked for
    ``lock_s`` seconds, whatever password is sent. A success clears the name's record. Failures
    older than ``window_s`` are forgotten. State is in memory, per process (a deployment with
    several replicas puts the lockout at the proxy as well).
    """

    def __init__(self, free: int = 5, delay_s: float = 1.0, max_delay_s: float = 30.0, lock_after: int = 20,
                 lock_s: float = 900.0, window_s: float = 3600.0, clock=time.monotonic) -> None:
        self.free, self.delay_s, self.max_delay_s = free, delay_s, max_delay_s
        self.lock_after, self.lock_s, self.window_s = lock_after, lock_s, window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, _Failures] = {}

    def _get(self, key: str, now: float) -> _Failures:
        rec = self._by_key.get(key)
        if rec is None or (now - rec.last > self.window_s and now >= rec.locked_until):
            rec = self._by_key[key] = _Failures()
        return rec

    def refusal(self, keys: list[str]) -> str | None:
        """Why an attempt for these keys is refused before any password check (None: go ahead)."""
        now = self.clock()
        with self._lock:
            for key in keys:
                rec = self._get(key, now)
                if rec.locked_until > now:
                    return f"locked for {rec.locked_until - now:.0f} s after {rec.count} failed logins"
                if rec.count >= self.free:
                    wait = min(self.max_delay_s, self.delay_s * 2 ** (rec.count - self.free))
                    if now - rec.last < wait:
                        return f"too many failed logins; wait {wait - (now - rec.last):.0f} s"
        return None

    def failed(self, keys: list[str], *, checked: bool = True) -> None:
        """Count a failure. A refused (unchecked) attempt counts toward the lockout too, but does
        not restart the back-off clock: hammering through the wait only locks the name sooner."""
        now = self.clock()
        with self._lock:
            for key in keys:
                rec = self._get(key, now)
                if rec.locked_until > now:
                    continue
                rec.count += 1
                if checked:
                    rec.last = now
                if rec.count >= self.lock_after:
                    rec.locked_until = now + self.lock_s

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._by_key.pop(key, None)


class Authenticator:
    """Checks usernames and passwords from the users file, with a :class:`LoginGuard` in front.

    Every check does one scrypt computation, for known and unknown names alike (no timing
    oracle); throttled or locked attempts are refused without one.
    """

    def __init__(self, path: Path | str, guard: LoginGuard | None = None, client_guard: LoginGuard | None = None) -> None:
        self.users = load_users(path)
        self.guard = guard or LoginGuard()
        # Per client address the bar is higher: behind a proxy many people share one address, and
        # one of them must not lock the others out; a password sprayed over many names still stops.
        self.client_guard = client_guard or LoginGuard(free=20, lock_after=200, lock_s=self.guard.lock_s,
                                                       clock=self.guard.clock)
        self.last_refusal: str | None = None

    def check(self, username: str, password: str, client: str | None = None) -> bool:
        user_key, client_keys = [f"user:{username}"], ([f"client:{client}"] if client else [])
        why = self.guard.refusal(user_key) or self.client_guard.refusal(client_keys)
        if why is not None:
            self.last_refusal = why
            self.guard.failed(user_key, checked=False)
            self.client_guard.failed(client_keys, checked=False)
            log.warning("login refused for %r: %s", username[:64], why)
            return False
        self.last_refusal = None
        stored = self.users.get(username)
        ok = verify_password(password, stored if stored is not None else _dummy_hash()) and stored is not None
        if ok:
            self.guard.succeeded(user_key)
        else:
            self.guard.failed(user_key)
            self.client_guard.failed(client_keys)
        return ok

    __call__ = check


def make_checker(path: Path | str) -> Authenticator:
    """A ``(username, password) -> bool`` callable for Gradio's ``auth=``; reads the file once."""
    return Authenticator(path)


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

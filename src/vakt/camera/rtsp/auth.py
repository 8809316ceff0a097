"""Basic and Digest (RFC 2617, MD5, no qop or qop=auth) authentication for RTSP and HTTP.

Nonces are HMACs of a random value under a per-server secret, so the server keeps no nonce table
and a long-lived client may keep using its nonce for keep-alives."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class Authenticator:
    """Checks an ``Authorization`` header against one user and password (``admin`` + verification code)."""

    def __init__(self, username: str, password: str, realm: str) -> None:
        self.username = username
        self.password = password
        self.realm = realm
        self._secret = secrets.token_bytes(32)

    def new_nonce(self) -> str:
        salt = secrets.token_hex(8)
        mac = hmac.new(self._secret, salt.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{salt}{mac}"

    def _nonce_ok(self, nonce: str) -> bool:
        salt, mac = nonce[:16], nonce[16:]
        want = hmac.new(self._secret, salt.encode(), hashlib.sha256).hexdigest()[:24]
        return len(nonce) == 40 and hmac.compare_digest(mac, want)

    def challenges(self) -> list[str]:
        """``WWW-Authenticate`` values, Digest first (clients prefer the strongest they know)."""
        return [
            f'Digest realm="{self.realm}", nonce="{self.new_nonce()}", algorithm=MD5',
            f'Basic realm="{self.realm}"',
        ]

    def check(self, header: str | None, method: str) -> bool:
        if not header:
            return False
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() == "basic":
            return self._check_basic(rest.strip())
        if scheme.lower() == "digest":
            return self._check_digest(rest, method)
        return False

    def _check_basic(self, token: str) -> bool:
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.username) and hmac.compare_digest(password, self.password)

    def _check_digest(self, rest: str, method: str) -> bool:
        params = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAM.finditer(rest)
        }
        needed = ("username", "realm", "nonce", "uri", "response")
        if any(k not in params for k in needed):
            return False
        if params["username"] != self.username or params["realm"] != self.realm:
            return False
        if not self._nonce_ok(params["nonce"]):
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{params['uri']}")
        if params.get("qop") == "auth":
            nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
            expected = _md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{params['nonce']}:{ha2}")
        return hmac.compare_digest(expected, params["response"].lower())

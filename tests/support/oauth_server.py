"""A loopback OAuth 2.0 token-introspection endpoint (RFC 7662) for Dovecot's oauth2 passdb, and XOAUTH2 helpers."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Introspection:
    """Which tokens are live and for whom; every question the server was asked is counted."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self.asked: list[str] = []  # tokens presented, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/introspect"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Introspection":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def grant(self, user: str, token: str) -> None:
        with self._lock:
            self._tokens[token] = user

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def asked_for(self, token: str) -> int:
        with self._lock:
            return self.asked.count(token)

    def _answer(self, token: str) -> dict[str, Any]:
        with self._lock:
            self.asked.append(token)
            user = self._tokens.get(token)
        return {"active": True, "username": user} if user else {"active": False}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                body = json.dumps(owner._answer(form.get("token", [""])[0])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test server
                return

        return Handler


def decode_xoauth2(blob: bytes | str) -> tuple[str, str]:
    """(user, token) from a base64 XOAUTH2 initial response: user=U^Aauth=Bearer T^A^A."""
    text = base64.b64decode(blob).decode()
    fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
    return fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")

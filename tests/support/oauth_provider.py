"""A narrow loopback stand-in for the providers' token endpoints (Microsoft identity platform, Google OAuth).

Only what msal and google-auth ask during a device-code sign-in, a refresh and a service-account
grant; HTTPS with a throwaway certificate, since msal insists on an https authority.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (we only read what the client asserted)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class FakeProvider:
    """Issues access tokens at-1, at-2, ... and rotating refresh tokens; counts every grant it sees."""

    def __init__(self, folder: Path, *, user: str = "desk@example.org", client_id: str = "client-1") -> None:
        self.user = user
        self.client_id = client_id
        self.expires_in = 3600
        self.refusing = False  # answer refresh grants with invalid_grant (a revoked sign-in)
        self.grants: list[dict[str, str]] = []
        self._issued = 0
        self._lock = threading.Lock()
        cert, key = folder / "provider-cert.pem", folder / "provider-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
        self.cert = cert
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, grant_type: str) -> int:
        with self._lock:
            return sum(1 for g in self.grants if g.get("grant_type") == grant_type)

    # -- answers ---------------------------------------------------------------------------
    def _tokens(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            self._issued += 1
            n = self._issued
        now = int(time.time())
        issuer = f"{self.base}/{tenant}/v2.0"
        id_claims = {"aud": self.client_id, "iss": issuer, "iat": now, "nbf": now, "exp": now + 3600,
                     "preferred_username": self.user, "oid": "oid-1", "tid": tenant, "sub": "sub-1", "name": "Desk"}
        return {
            "token_type": "Bearer", "scope": "https://outlook.office365.com/IMAP.AccessAsUser.All "
            "https://outlook.office365.com/SMTP.Send", "expires_in": self.expires_in, "ext_expires_in": self.expires_in,
            "access_token": f"at-{n}", "refresh_token": f"rt-{n}",
            "id_token": f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(id_claims)}.",
            "client_info": _b64url({"uid": "oid-1", "utid": tenant}),
        }

    def _answer(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
            tenant = parts[0]
            root = f"{self.base}/{tenant}/oauth2/v2.0"
            return 200, {"authorization_endpoint": f"{root}/authorize", "token_endpoint": f"{root}/token",
                         "device_authorization_endpoint": f"{root}/devicecode", "issuer": f"{self.base}/{tenant}/v2.0"}
        if method == "POST" and path.endswith("/oauth2/v2.0/devicecode"):
            return 200, {"device_code": "device-1", "user_code": "ABCD-1234", "verification_uri": f"{self.base}/device",
                         "expires_in": 900, "interval": 1,
                         "message": f"To sign in, open {self.base}/device and enter the code ABCD-1234."}
        if method == "POST" and path.endswith("/token"):
            with self._lock:
                self.grants.append(form)
            grant = form.get("grant_type", "")
            if grant == "refresh_token" and self.refusing:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70008: the refresh token has expired"}
            if path.startswith("/google/"):
                with self._lock:
                    self._issued += 1
                    n = self._issued
                return 200, {"access_token": f"gat-{n}", "expires_in": self.expires_in, "token_type": "Bearer",
                             "scope": "https://mail.google.com/"}
            return 200, self._tokens(parts[0])
        return 404, {"error": "not_found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                code, data = owner._answer(method, urllib.parse.urlsplit(self.path).path, form)
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                self._reply("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._reply("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler

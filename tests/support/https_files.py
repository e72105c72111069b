"""Helpers of the link tests: a loopback HTTPS server's routes, canned files, a resolver for test host names."""

from __future__ import annotations

import http.server
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpcore
import pytest
import trustme

from agent.links.fetch import Fetcher, FetchLimits
from agent.links.guard import AddressPolicy
from agent.mail.attachments import AttachmentStore

HOST = "files.example.test"  # resolved by the tests' resolver only: a connection proves we used the checked address
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000 + b"\n%%EOF\n"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Password</form></body></html>"


@dataclass
class Server:
    port: int
    ca: trustme.CA
    hits: list[tuple[str, str]] = field(default_factory=list)
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler, bool], None]] = field(default_factory=dict)

    def url(self, path: str, host: str = HOST) -> str:
        return f"https://{host}:{self.port}{path}"

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def send(handler: http.server.BaseHTTPRequestHandler, head_only: bool, body: bytes, *, status: int = 200,
         content_type: str = "application/pdf", headers: dict[str, str] | None = None, length: bool = True) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    if length:
        handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if not head_only:
        handler.wfile.write(body)


def redirect(handler: http.server.BaseHTTPRequestHandler, head_only: bool, location: str) -> None:
    send(handler, head_only, b"", status=302, content_type="text/plain", headers={"Location": location})


def fake_resolver(host: str, port: int) -> list[str]:
    names = {HOST: ["127.0.0.1"], "metadata.example.test": ["169.254.169.254"], "mixed.example.test": ["8.8.8.8", "10.1.2.3"]}
    if host in names:
        return names[host]
    raise httpcore.ConnectError("cannot resolve host")


def slow(seconds: float) -> Callable[[http.server.BaseHTTPRequestHandler, bool], None]:
    def route(handler: http.server.BaseHTTPRequestHandler, head_only: bool) -> None:
        time.sleep(seconds)
        send(handler, head_only, PDF)

    return route

"""A loopback HTTPS server with a self-signed CA (trustme) standing in for file shares, and fetchers that trust it."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest
import trustme

from agent.links.fetch import Fetcher, FetchLimits
from agent.links.guard import AddressPolicy
from agent.mail.attachments import AttachmentStore
from support.https_files import HOST, Server, fake_resolver, send


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1", HOST, "metadata.example.test")
    state = Server(port=0, ca=ca)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self, head_only: bool) -> None:
            path = self.path.split("?", 1)[0]
            state.hits.append((self.command, self.path))
            route = state.routes.get(path)
            if route is None:
                send(self, head_only, b"not found", status=404, content_type="text/plain")
            else:
                route(self, head_only)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(True)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def make_fetcher(server: Server, tmp_path) -> Iterator[Callable[..., Fetcher]]:
    made: list[Fetcher] = []

    def make(*, policy: AddressPolicy | None = None, allow_hosts: tuple[str, ...] = (HOST, "metadata.example.test"),
             **limits: object) -> Fetcher:
        # Private addresses refused, except the loopback server itself: what production sees for a public host.
        policy = policy or AddressPolicy(exempt=frozenset({"127.0.0.1"}), resolver=fake_resolver)
        fetcher = Fetcher(FetchLimits(allow_hosts=allow_hosts, **limits), AttachmentStore(tmp_path / "store"),  # type: ignore[arg-type]
                          policy=policy, verify=server.client_context())
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()

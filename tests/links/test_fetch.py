"""The fetcher against a loopback HTTPS server: files, redirects, sign-in pages, size caps, slow servers, SSRF."""

from __future__ import annotations

import hashlib
import logging
import time

from support.https_files import HOST, LOGIN_PAGE, PDF, redirect, send, slow

from agent.documents import sniff
from agent.links.fetch import FAILED, FETCHED, NEEDS_LOGIN, REFUSED, TOO_LARGE
from agent.links.guard import AddressPolicy


def test_a_pdf_is_stored_by_hash_with_headers_but_no_cookies(server, make_fetcher, tmp_path):
    server.routes["/s/Tok3nAbc/letter"] = lambda h, head: send(h, head, PDF, content_type="application/octet-stream", headers={
        "Set-Cookie": "session=secret", "Content-Disposition": 'attachment; filename="CRM-25-191 batch 1.pdf"'})
    fetcher = make_fetcher()
    got = fetcher.fetch(server.url("/s/Tok3nAbc/letter"))
    assert got.state == FETCHED, got.error
    assert got.sha256 == hashlib.sha256(PDF).hexdigest() and got.size == len(PDF)
    assert got.sniffed_type == sniff.PDF and got.content_type == "application/octet-stream"
    assert got.filename == "CRM-25-191 batch 1.pdf"
    assert fetcher.store.read(got.stored_path or "") == PDF
    assert "set-cookie" not in got.headers and got.headers["content-type"] == "application/octet-stream"
    # HEAD first, then the GET; and the connection went to the address the guard checked.
    assert [m for m, p in server.hits if p == "/s/Tok3nAbc/letter"][-2:] == ["HEAD", "GET"]
    assert fetcher.transport.backend.peers and set(fetcher.transport.backend.peers) == {"127.0.0.1"}
    assert not list((tmp_path / "store" / ".incoming").iterdir())


def test_redirects_up_to_the_cap_are_followed(server, make_fetcher):
    server.routes["/r3"] = lambda h, head: redirect(h, head, "/r2")
    server.routes["/r2"] = lambda h, head: redirect(h, head, server.url("/r1"))
    server.routes["/r1"] = lambda h, head: redirect(h, head, "/final.pdf")
    server.routes["/final.pdf"] = lambda h, head: send(h, head, PDF)
    got = make_fetcher(max_redirects=3).fetch(server.url("/r3"))
    assert got.state == FETCHED and got.redirects == 3 and got.filename == "final.pdf"
    too_many = make_fetcher(max_redirects=2).fetch(server.url("/r3"))
    assert too_many.state == FAILED and "more than 2 redirects" in too_many.error and too_many.sha256 is None


def test_a_redirect_to_a_private_address_or_plain_http_or_another_host_is_refused(server, make_fetcher):
    server.routes["/to-metadata"] = lambda h, head: redirect(h, head, f"https://metadata.example.test:{server.port}/latest")
    server.routes["/to-http"] = lambda h, head: redirect(h, head, f"http://{HOST}:{server.port}/final.pdf")
    server.routes["/to-elsewhere"] = lambda h, head: redirect(h, head, "https://evil.example/x.pdf")
    fetcher = make_fetcher()
    metadata = fetcher.fetch(server.url("/to-metadata"))
    assert metadata.state == REFUSED and "169.254.169.254" in metadata.error
    assert fetcher.fetch(server.url("/to-http")).state == REFUSED
    elsewhere = fetcher.fetch(server.url("/to-elsewhere"))
    assert elsewhere.state == REFUSED and "evil.example" in elsewhere.error
    assert "169.254.169.254" not in fetcher.transport.backend.peers


def test_a_host_answering_public_and_private_addresses_is_refused(make_fetcher):
    got = make_fetcher(allow_hosts=("mixed.example.test",)).fetch("https://mixed.example.test/x.pdf")
    assert got.state == REFUSED and "10.1.2.3" in got.error


def test_production_defaults_refuse_loopback_and_the_server_sees_nothing(server, make_fetcher):
    before = len(server.hits)
    fetcher = make_fetcher(policy=AddressPolicy(), allow_hosts=("127.0.0.1", "localhost"))
    for url in (server.url("/final.pdf", host="127.0.0.1"), server.url("/final.pdf", host="localhost")):
        got = fetcher.fetch(url)
        assert got.state == REFUSED and "non-public" in got.error
    assert len(server.hits) == before


def test_plain_http_and_unlisted_hosts_are_refused_before_any_connection(server, make_fetcher):
    before = len(server.hits)
    fetcher = make_fetcher()
    assert fetcher.fetch(f"http://{HOST}:{server.port}/final.pdf").state == REFUSED
    assert fetcher.fetch("https://www.example.org/a.pdf").state == REFUSED
    # Two readings of one URL: the guard refuses rather than pick one.
    assert fetcher.fetch(f"https://{HOST}\\@evil.example/a.pdf").state == REFUSED
    assert fetcher.fetch(f"https://user@{HOST}:{server.port}/final.pdf").state == REFUSED
    assert len(server.hits) == before


def test_a_sign_in_page_where_a_file_was_expected_needs_login(server, make_fetcher):
    server.routes["/share/xyz"] = lambda h, head: redirect(h, head, "/login")
    server.routes["/login"] = lambda h, head: send(h, head, LOGIN_PAGE, content_type="text/html; charset=utf-8")
    server.routes["/lying.pdf"] = lambda h, head: send(h, head, LOGIN_PAGE, content_type="application/pdf")
    server.routes["/forbidden"] = lambda h, head: send(h, head, b"no", status=403, content_type="text/plain")
    fetcher = make_fetcher()
    for path in ("/share/xyz", "/lying.pdf", "/forbidden"):
        got = fetcher.fetch(server.url(path))
        assert got.state == NEEDS_LOGIN, path
        assert got.sha256 is None and got.stored_path is None
    assert not list(fetcher.store.root.glob("??/*"))


def test_an_oversized_file_is_too_large_and_nothing_is_stored(server, make_fetcher):
    big = PDF + b"x" * 50_000
    server.routes["/declared-big.pdf"] = lambda h, head: send(h, head, big)
    server.routes["/undeclared-big.pdf"] = lambda h, head: send(h, head, big, length=False)
    fetcher = make_fetcher(max_bytes=20_000)
    declared = fetcher.fetch(server.url("/declared-big.pdf"))
    assert declared.state == TOO_LARGE and "declared size" in declared.error
    # The HEAD's size was enough: no GET was sent.
    assert ("GET", "/declared-big.pdf") not in server.hits
    streamed = fetcher.fetch(server.url("/undeclared-big.pdf"))
    assert streamed.state == TOO_LARGE and streamed.sha256 is None
    assert not list(fetcher.store.root.glob("??/*"))
    assert not list((fetcher.store.root / ".incoming").iterdir())


def test_a_slow_server_times_out_and_may_be_retried(server, make_fetcher):
    server.routes["/slow.pdf"] = slow(2.0)
    started = time.monotonic()
    got = make_fetcher(read_timeout_seconds=0.3).fetch(server.url("/slow.pdf"))
    assert got.state == FAILED and got.retry and "timed out" in got.error
    assert time.monotonic() - started < 1.9


def test_a_server_that_refuses_head_is_fetched_by_get(server, make_fetcher):
    def no_head(h, head):
        if head:
            send(h, head, b"", status=405, content_type="text/plain")
        else:
            send(h, head, PDF)

    server.routes["/nohead.pdf"] = no_head
    assert make_fetcher().fetch(server.url("/nohead.pdf")).state == FETCHED


def test_capability_urls_stay_out_of_the_logs(server, make_fetcher, caplog):
    server.routes["/s/SeCrEtT0ken99/file.pdf"] = lambda h, head: send(h, head, PDF)
    server.routes["/s/SeCrEtT0ken98/login"] = lambda h, head: send(h, head, LOGIN_PAGE, content_type="text/html")
    caplog.set_level(logging.DEBUG)
    fetcher = make_fetcher()
    assert fetcher.fetch(server.url("/s/SeCrEtT0ken99/file.pdf")).state == FETCHED
    assert fetcher.fetch(server.url("/s/SeCrEtT0ken98/login")).state == NEEDS_LOGIN
    assert fetcher.fetch(f"http://{HOST}/s/SeCrEtT0ken97/x.pdf").state == REFUSED
    assert caplog.records, "the fetcher logs each link (host and hash)"
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert "SeCrEtT0ken" not in text, record.name
    assert any(HOST in r.getMessage() for r in caplog.records)


def test_five_megabytes_on_loopback(server, make_fetcher, record_property):
    payload = PDF + b"y" * (5 * 1024 * 1024 - len(PDF))
    server.routes["/five.pdf"] = lambda h, head: send(h, head, payload)
    fetcher = make_fetcher()
    started = time.perf_counter()
    got = fetcher.fetch(server.url("/five.pdf"))
    seconds = time.perf_counter() - started
    assert got.state == FETCHED and got.size == len(payload)
    record_property("five_mb_seconds", round(seconds, 3))
    print(f"\n5 MB over loopback HTTPS: {seconds:.3f} s")

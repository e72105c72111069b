"""Hostile messages generated at run time: every superlinear shape of issue 13 item 3, and then some.

Nothing large is committed; each case is a function of its size so the bench can grow or shrink the corpus.
Each case is (name, raw bytes, earlier thread texts), the raw bytes as they would arrive from the inbox.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator

Case = tuple[str, bytes, tuple[str, ...]]
MB = 1024 * 1024


def _mail(body: bytes | str, *, headers: bytes = b"", content_type: str = "text/plain; charset=utf-8") -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = (
        b"From: Records Clerk <clerk@city.example>\r\n"
        b"To: records+ra-2025-0001-abcd@example.org\r\n"
        b"Subject: Re: [RA-2025-0001] Public records request\r\n"
        b"Date: Mon, 03 Feb 2025 10:00:00 +0000\r\n"
        b"Message-ID: <hostile@city.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        + headers
        + f"Content-Type: {content_type}\r\n".encode()
    )
    return head + b"\r\n" + body


def _html(body: str) -> bytes:
    return _mail(body, content_type="text/html; charset=utf-8")


def _multipart(parts: list[bytes], boundary: str = "b0undary") -> bytes:
    body = b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts) + f"--{boundary}--\r\n".encode()
    return _mail(body, content_type=f'multipart/mixed; boundary="{boundary}"')


def _attachment(index: int, size: int) -> bytes:
    data = base64.encodebytes(bytes([index % 256]) * size)
    return (
        b"Content-Type: application/pdf\r\n"
        + f'Content-Disposition: attachment; filename="record-{index}.pdf"\r\n'.encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + data
    )


def _nested_mime(depth: int) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\nWe will respond within 10 business days.\r\n"
    for level in range(depth):
        boundary = f"n{level}".encode()
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
            + b"--" + boundary + b"\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )
    head, _, body = inner.partition(b"\r\n\r\n")
    return _mail(body, content_type=head.split(b": ", 1)[1].decode())


def _words(rng: random.Random, n: int) -> str:
    vocab = "records request city county clerk police report fee days response office law the of and a".split()
    return " ".join(rng.choice(vocab) for _ in range(n))


def cases(scale: float = 1.0) -> Iterator[Case]:
    """The corpus. scale=1.0 uses the sizes reported in the issue (60 KB, 2 MB, 100k repeats)."""
    rng = random.Random(13)

    def n(size: int) -> int:
        return max(1, int(size * scale))

    # --- extract: relative dates, windows, many dates --------------------------------------------------
    yield "relative_spaces_60k", _mail("We will respond within 5" + " " * n(60_000) + "x."), ()
    yield "relative_spaces_2mb", _mail("We will respond within 5" + " " * n(2 * MB) + "x."), ()
    yield "relative_nbsp_html_2mb", _html("<p>We will respond within 5" + "&nbsp;" * n(350_000) + " x.</p>"), ()
    yield "relative_nbsp_plain_2mb", _mail("We will respond within 5" + "\xa0" * n(700_000) + "x."), ()
    yield "relative_tabs_newlines", _mail("We will respond within fourteen" + " \t\n" * n(200_000) + "(14) x"), ()
    yield "relative_additional", _mail("We expect 5 additional" + " " * n(500_000) + "business x."), ()
    yield "relative_repeated", _mail("We will respond in 5 days. " * n(80_000)), ()
    yield "window_repeated", _mail("available for the next " * n(90_000) + "30 days."), ()
    yield "dates_repeated", _mail("We will respond by March 3, 2025 " * n(60_000) + "."), ()
    yield "dates_sentences", _mail("We will respond by March 3, 2025. " * n(60_000)), ()
    yield "lead_extension", _mail("The deadline is extended " * n(80_000) + "to March 3, 2025."), ()
    yield "condition_words", _mail("If we will " * n(200_000) + "respond by March 3, 2025."), ()
    yield "money_repeated", _mail("A deposit of $350.00 is due. " * n(70_000)), ()
    yield "urls_repeated", _mail("https://city.example/a?b=c " * n(80_000)), ()
    yield "attached_window", _mail("attached " * n(200_000) + "records."), ()

    # --- tracking numbers --------------------------------------------------------------------------
    yield "tracking_repeats_100k", _mail("Request # 24-556 " * n(100_000)), ()
    yield "tracking_portal_repeats", _mail("CRM-25-191 R003193-052523 2023-PRR-423 " * n(50_000)), ()
    yield "tracking_distinct", _mail(" ".join(f"Request # 24-{i}" for i in range(n(100_000)))), ()
    yield "tracking_label_spaces", _mail("Request #" + " " * n(2 * MB) + "x"), ()
    yield "tracking_justfoia_run", _mail("justfoia.com/" * n(100_000)), ()
    yield "tracking_token_run", _mail("PRR-" + "1-" * n(500_000)), ()
    yield "tracking_assigned", _mail("assigned the tracking " * n(80_000) + "number 2025-77"), ()

    # --- clean: short lines, quotes, sign-offs, fingerprints ------------------------------------------
    yield "short_lines_2mb", _mail("ab\n" * n(700_000)), ()
    yield "blank_lines_2mb", _mail("a" + "\n" * n(2 * MB) + "b"), ()
    yield "quoted_alternating", _mail("Hello\n" + "> a\nb\n" * n(300_000)), ()
    yield "quoted_block_huge", _mail("Hello\n" + "> quoted line\n" * n(150_000)), ()
    yield "signoff_spaces", _mail("We got it. Thank you" + " " * n(2 * MB) + "x"), ()
    yield "signoff_punct", _mail("Regards" + ",." * n(1 * MB) + " x"), ()
    yield "signoff_lines", _mail("The form is attached. Thank you,\n" * n(60_000)), ()
    yield "signature_blocks", _mail(("Thanks,\nAna\n" + "Records Office\n") * n(100_000)), ()
    yield "distinct_sentences", _mail("\n\n".join(f"Line {_words(rng, 6)} number {i}." for i in range(n(100_000)))), ()
    yield "repeated_paragraph", _mail(("This request is being processed by the records office today.\n\n") * n(40_000)), ()
    yield "long_wrapped_lines", _mail(("x" * 70 + "\n") * n(30_000)), ()
    yield "on_wrote_runs", _mail("Hi\n" + "On a" * n(300_000) + " wrote:"), ()
    yield "on_newlines", _mail("Hi\n" + "on\n" * n(500_000) + "wrote:"), ()
    yield "from_sent_runs", _mail("Hi\n" + "From: a " * n(200_000) + "Sent: b"), ()
    yield "rule_lines", _mail("Hi\n" + ("_" * 12 + "\n") * n(100_000) + "From: x"), ()
    yield "disclaimer_runs", _mail("this message " * n(150_000) + "may contain confidential"), ()
    yield "glued_greeting", _mail("CA 90210 Dear " * n(100_000)), ()
    yield "thread_poisoning", _mail("We will respond within 10 days.\n" + "ab\n" * 1000), tuple(
        ("ab\n" * 16_000 + f"earlier {i}")[:50_000] for i in range(8)
    )

    # --- HTML -----------------------------------------------------------------------------------
    yield "html_nested_lists_40k", _html("<ul><li>" * n(5_000) + "deep" + "</li></ul>" * n(5_000)), ()
    yield "html_nested_lists_400k", _html("<ol><li>x" * n(50_000)), ()
    yield "html_deep_divs", _html("<div>" * n(200_000) + "text"), ()
    yield "html_deep_tables", _html("<table><tr><td>" * n(30_000) + "cell"), ()
    yield "html_many_tags", _html("<b>a</b>" * n(300_000)), ()
    yield "html_broken", _html("<<<>>>&&&" * n(200_000)), ()
    yield "html_nul", _html("<p>a\x00b</p>" * n(100_000)), ()

    # --- headers --------------------------------------------------------------------------------
    yield "header_subject_500k", _mail("Body", headers=b"X-Long: " + b"a " * n(250_000) + b"\r\n"), ()
    yield "header_folded_500k", _mail("Body", headers=b"X-Folded: a\r\n" + b" continued\r\n" * n(50_000)), ()
    yield "header_many_fields", _mail("Body", headers=b"".join(b"X-F%d: v\r\n" % i for i in range(n(100_000)))), ()
    yield "references_5mb", _mail(
        "Body", headers=b"References: " + b" ".join(b"<r%d@x.example>" % i for i in range(n(300_000))) + b"\r\n"
    ), ()
    yield "to_70k", _mail(
        "Body", headers=b"Cc: " + b", ".join(b"u%d@x.example" % i for i in range(n(70_000))) + b"\r\n"
    ), ()
    yield "encoded_words", _mail(
        "Body", headers=b"X-Enc: " + b" ".join(b"=?utf-8?q?a=C3=A9?=" for _ in range(n(20_000))) + b"\r\n"
    ), ()
    yield "nested_comments", _mail("Body", headers=b"Cc: " + b"(" * n(50_000) + b"a@b.example" + b")" * n(50_000) + b"\r\n"), ()
    yield "nul_message_id", _mail("Body", headers=b"X-Note: a\x00b\r\n").replace(
        b"<hostile@city.example>", b"<a\x00b@city.example>"
    ), ()
    yield "nul_body", _mail("We will respond\x00 within 10 days.\x00" * n(50_000)), ()
    yield "nul_charset", _mail("Body", content_type='text/plain; charset="utf-8\x00"'), ()
    yield "long_message_id", _mail("Body").replace(b"<hostile@city.example>", b"<" + b"m" * n(600_000) + b"@x>"), ()
    yield "no_blank_line", b"From: a@b.example\r\nSubject: " + b"x" * n(2 * MB), ()

    # --- long lines, blobs, attachments, MIME depth ------------------------------------------------
    yield "long_line_2mb", _mail("x" * n(2 * MB)), ()
    yield "long_token_dots", _mail("a." * n(1 * MB)), ()
    yield "base64_blob", _mail(base64.b64encode(rng.randbytes(n(1_500_000))).decode()), ()
    yield "many_attachments", _multipart(
        [b"Content-Type: text/plain\r\n\r\nSee the attached records.\r\n"] + [_attachment(i, 64) for i in range(n(2_000))]
    ), ()
    yield "big_attachment", _multipart(
        [b"Content-Type: text/plain\r\n\r\nAttached.\r\n", _attachment(1, n(8 * MB))]
    ), ()
    yield "nested_mime_200", _nested_mime(n(200)), ()
    yield "many_text_parts", _multipart(
        [b"Content-Type: text/plain\r\n\r\nWe will respond within 10 days.\r\n"] * n(5_000)
    ), ()



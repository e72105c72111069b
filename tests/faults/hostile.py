"""A generated corpus of malformed and hostile mail: every kind of input a real inbox eventually receives.

Deterministic (seeded), so a failure names the same message every run. Each entry is (name, raw bytes);
names say what is wrong with the message. Every message is distinct, so each must become its own row.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator

OUR = "records@example.org"
OUR_PLUS = "records+ra-2025-0001-abcd@example.org"


def _msg(i: int, headers: list[tuple[str, str]] | None = None, body: str = "Hello.\n", *, mid: bool = True) -> bytes:
    hs = headers or [("From", "Clerk <clerk@city.example>"), ("To", OUR), ("Subject", f"Records {i}")]
    if mid and not any(k.lower() == "message-id" for k, _ in hs):
        hs = hs + [("Message-ID", f"<hostile-{i}@city.example>")]
    head = "".join(f"{k}: {v}\r\n" for k, v in hs)
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8", "surrogateescape")


def _multipart(i: int, boundary: str = "BOUND", parts: list[str] | None = None, close: bool = True) -> bytes:
    parts = parts or [
        "Content-Type: text/plain; charset=utf-8\r\n\r\nWe received your request.\r\n",
        'Content-Type: application/pdf; name="letter.pdf"\r\nContent-Disposition: attachment; filename="letter.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4 fake " * 40).decode().replace("\n", "\r\n"),
    ]
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + (f"--{boundary}--\r\n" if close else "")
    head = (
        f"From: Clerk <clerk@city.example>\r\nTo: {OUR}\r\nSubject: Batch {i}\r\nMessage-ID: <mp-{i}@city.example>\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    )
    return (head + body).encode()


def truncated(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for n in range(24):
        whole = _multipart(1000 + n)
        cut = rng.randint(1, len(whole) - 1)
        yield f"truncated-at-{cut}", whole[:cut] + f"\r\nX-Cut: {n}".encode() * (n % 2)


def missing_boundaries(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    base = "From: a@city.example\r\nTo: {our}\r\nSubject: mb {n}\r\nMessage-ID: <mb-{n}@city.example>\r\nMIME-Version: 1.0\r\n"
    variants = [
        "Content-Type: multipart/mixed\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nno boundary parameter\r\n--X--\r\n",
        'Content-Type: multipart/mixed; boundary="NEVER"\r\n\r\nthe boundary never appears\r\n',
        'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\nempty boundary\r\n----\r\n',
        'Content-Type: multipart/alternative; boundary="A"\r\n\r\n--A\r\nContent-Type: text/plain\r\n\r\nno closing line\r\n',
        'Content-Type: multipart/mixed; boundary="A"\r\n\r\n--A--\r\n',
        'Content-Type: multipart/mixed; boundary="A"; boundary="B"\r\n\r\n--B\r\n\r\ntwo boundaries\r\n--B--\r\n',
        'Content-Type: multipart/mixed; boundary="' + "x" * 5000 + '"\r\n\r\n--' + "x" * 5000 + "\r\n\r\nlong\r\n",
        'Content-Type: multipart/mixed; boundary="A"\r\n\r\n--A\r\n--A\r\n--A\r\n--A--\r\n',
        'Content-Type: multipart/\r\n\r\nempty subtype\r\n',
        'Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\nContent-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\nself\r\n--A--\r\n',
    ]
    for n, tail in enumerate(variants):
        yield f"missing-boundary-{n}", (base.format(our=OUR, n=n) + tail).encode()
    for n in range(6):
        whole = _multipart(2000 + n, boundary=f"B{n}")
        yield f"boundary-removed-{n}", whole.replace(f"--B{n}".encode(), b"", rng.randint(1, 3))


def lying_charsets(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    texts = ["Grüße aus Köln, die Unterlagen folgen.", "Réponse à votre demande №42 — ça marche", "日本語のテキスト", "Ελληνικά κείμενα"]
    declared = ["utf-8", "us-ascii", "iso-8859-1", "x-unknown-charset", "utf-16", "iso-2022-jp", "koi8-r", "\"utf-8\"", "", "utf8;;"]
    encodings = ["utf-8", "latin-1", "cp1252", "utf-16-le", "shift_jis"]
    n = 0
    for text in texts:
        for enc in encodings:
            try:
                payload = text.encode(enc)
            except UnicodeEncodeError:
                payload = text.encode("utf-8")
            lie = declared[n % len(declared)]
            head = (
                f"From: x@city.example\r\nTo: {OUR}\r\nSubject: charset {n}\r\nMessage-ID: <cs-{n}@city.example>\r\n"
                f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={lie}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            ).encode()
            yield f"charset-{n}-{lie or 'empty'}-really-{enc}", head + payload + b"\r\n"
            n += 1
    words = ["=?utf-8?B?" + base64.b64encode("Grüße".encode("latin-1")).decode() + "?=", "=?x-bogus?Q?caf=E9?=", "=?utf-8?Q?=FF=FE?=", "=?iso-8859-1?B?!!!?="]
    for m, word in enumerate(words):
        yield f"encoded-word-lie-{m}", _msg(3000 + m, [("From", f"{word} <x@city.example>"), ("To", OUR), ("Subject", word)])


def eight_bit_headers(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    samples = ["Grüße".encode("utf-8"), "Grüße".encode("latin-1"), bytes(range(128, 256)), "日本".encode("shift_jis"), b"\xff\xfe\x00A"]
    for n, raw in enumerate(samples * 3):
        where = ["Subject", "From", "To"][n % 3]
        headers = {"Subject": b"Records " + raw, "From": b"Clerk " + raw + b" <clerk@city.example>", "To": OUR.encode()}
        if where == "To":
            headers["To"] = raw + b" <" + OUR.encode() + b">"
        head = b"".join(k.encode() + b": " + v + b"\r\n" for k, v in headers.items())
        head += f"Message-ID: <8bit-{n}@city.example>\r\n".encode()
        if n % 2:
            head += b'Content-Type: application/octet-stream; name="' + raw + b'.pdf"\r\nContent-Disposition: attachment; filename="' + raw + b'.pdf"\r\n'
        yield f"8bit-{where.lower()}-{n}", head + b"\r\nbody " + raw + b"\r\n"


def sizes(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    yield "zero-bytes", b""
    yield "one-newline", b"\r\n"
    yield "headers-only-no-blank-line", f"From: a@city.example\r\nTo: {OUR}\r\nSubject: headers only\r\nMessage-ID: <ho@city.example>".encode()
    yield "body-only-no-headers", b"\r\nThis is a body without any header at all.\r\n"
    yield "empty-body", _msg(4000, body="")
    # Sizes here keep the whole corpus fast; test_time_budget.py pushes the big cases further.
    yield "huge-text-body-600kb", _msg(4001, body=("The records are attached. " * 40 + "\n") * 600)
    yield "one-line-5kb", _msg(4002, body="x" * 5_000)
    big = base64.encodebytes(rng.randbytes(1_500_000)).decode().replace("\n", "\r\n")
    yield "attachment-over-cap", _multipart(
        4003,
        parts=[
            "Content-Type: text/plain\r\n\r\nLarge file attached.\r\n",
            'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="big.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + big,
        ],
    )
    yield "many-small-attachments", _multipart(
        4004,
        parts=[
            f'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="f{k}.txt"\r\n\r\nfile {k}\r\n' for k in range(300)
        ],
    )
    yield "empty-attachment", _multipart(
        4005, parts=['Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="empty.pdf"\r\n\r\n']
    )


def deep_nesting(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for depth in (20, 60, 150, 400, 1200):
        body = "innermost text\r\n"
        for level in range(depth):
            b = f"L{level}"
            body = f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n--{b}\r\n{body}\r\n--{b}--\r\n'
        head = f"From: deep@city.example\r\nTo: {OUR}\r\nSubject: nested {depth}\r\nMessage-ID: <deep-{depth}@city.example>\r\nMIME-Version: 1.0\r\n"
        yield f"nested-multipart-{depth}", (head + body).encode()
    for depth in (10, 50, 200):
        inner = f"From: inner@city.example\r\nSubject: level 0\r\n\r\ninnermost\r\n"
        for level in range(depth):
            inner = f"From: l{level}@city.example\r\nSubject: level {level + 1}\r\nContent-Type: message/rfc822\r\n\r\n{inner}"
        head = f"To: {OUR}\r\nMessage-ID: <rfc822-{depth}@city.example>\r\n"
        yield f"nested-rfc822-{depth}", (head + inner).encode()


def garbage(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    for n in range(20):
        size = rng.choice([1, 7, 64, 512, 4096, 70_000])
        yield f"random-bytes-{n}-{size}", rng.randbytes(size)
    for n in range(6):
        yield f"nul-padded-{n}", b"\x00" * (n * 100 + 1) + _msg(5000 + n) + b"\x00" * 50
    yield "pdf-not-mail", b"%PDF-1.7\n" + rng.randbytes(3000)
    yield "gzip-not-mail", b"\x1f\x8b\x08\x00" + rng.randbytes(2000)
    yield "utf16-whole-message", _msg(5100).decode().encode("utf-16")


def attachment_names(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    names = [
        "../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "/etc/shadow",
        "C:\\boot.ini",
        "records\x00.pdf.exe",
        "\x00",
        "..",
        ".",
        "",
        "   ",
        "a" * 5000 + ".pdf",
        "CON",
        "line\r\nBcc: victim@example.com",
        "name\twith\ttabs.pdf",
        "\u202ecod.pdf",  # right-to-left override: looks like fdp.doc
        "~/.ssh/authorized_keys",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "file:/etc/passwd",
        ".bashrc",
        "résumé ../ 日本.pdf",
    ]
    for n, name in enumerate(names):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        yield f"attachment-name-{n}", _multipart(
            6000 + n,
            parts=[
                "Content-Type: text/plain\r\n\r\nSee attached.\r\n",
                f'Content-Type: application/pdf; name="{quoted}"\r\nContent-Disposition: attachment; filename="{quoted}"\r\n'
                f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(b'%PDF-1.4 n' + str(n).encode()).decode()}\r\n",
            ],
        )
    # RFC 2231 encoded and continued file names
    for n, name in enumerate(["..%2F..%2Fetc%2Fpasswd", "%00evil.pdf", "%2Fabs%2Fpath"]):
        yield f"attachment-rfc2231-{n}", _multipart(
            6100 + n,
            parts=[f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''{name}\r\n\r\nx\r\n"],
        )


def header_injection(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    subjects = [
        "=?utf-8?Q?hello=0D=0ABcc:_victim@example.com?=",
        "=?utf-8?B?" + base64.b64encode(b"hi\r\nTo: all@example.com\r\n\r\nbody").decode() + "?=",
        "normal\r\n Bcc: folded@example.com",
        "x\rBcc: bare-cr@example.com",
        "x\nBcc: bare-lf@example.com",
        "nul\x00here",
    ]
    for n, subject in enumerate(subjects):
        yield f"injected-subject-{n}", _msg(7000 + n, [("From", "a@city.example"), ("To", OUR), ("Subject", subject)])
    froms = [
        "attacker@evil.example\r\nBcc: x@y.example",
        '"Clerk\r\nX-Injected: yes" <clerk@city.example>',
        "=?utf-8?Q?Clerk=0A?= <clerk@city.example>",
        "<>",
        "clerk@city.example, second@city.example, " + ", ".join(f"u{k}@x.example" for k in range(500)),
        "@@@",
    ]
    for n, sender in enumerate(froms):
        yield f"injected-from-{n}", _msg(7100 + n, [("From", sender), ("To", OUR), ("Subject", "from")])
    yield "ten-thousand-headers", _msg(7200, [("From", "a@city.example"), ("To", OUR)] + [(f"X-H{k}", "v") for k in range(10_000)])
    yield "header-line-200kb", _msg(7201, [("From", "a@city.example"), ("To", OUR), ("Subject", "S" * 200_000)])
    yield "header-without-colon", b"From a@city.example\r\nThis is not a header\r\nMessage-ID: <nocolon@x>\r\n\r\nbody\r\n"
    yield "header-name-binary", b"Fr\x00om: a@city.example\r\n\xff\xfe: v\r\nMessage-ID: <binname@x>\r\n\r\nbody\r\n"
    yield "continuation-first-line", b" continued first\r\nFrom: a@city.example\r\nMessage-ID: <cont@x>\r\n\r\nbody\r\n"
    yield "crlf-in-message-id", _msg(7202, [("From", "a@city.example"), ("To", OUR), ("Message-ID", "<a@b>\r\nBcc: z@y")])
    for n in range(4):
        yield f"duplicate-headers-{n}", _msg(
            7300 + n,
            [("From", "a@city.example"), ("From", "b@evil.example"), ("To", OUR), ("Subject", "one"), ("Subject", "two"),
             ("Message-ID", f"<dupe-{n}-a@x>"), ("Message-ID", f"<dupe-{n}-b@x>")],
        )


def mail_loops(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    variants = [
        [("From", OUR), ("To", OUR), ("Subject", "loop: from us to us")],
        [("From", f"Records Desk <{OUR}>"), ("To", OUR_PLUS), ("Subject", "Re: [RA-2025-0001] our own request")],
        [("From", OUR_PLUS), ("To", OUR_PLUS), ("Subject", "plus to plus")],
        [("From", "mailer-daemon@example.org"), ("To", OUR), ("Subject", "Undelivered Mail Returned to Sender"), ("Auto-Submitted", "auto-replied")],
        [("From", OUR), ("To", OUR), ("Subject", "Auto: out of office"), ("Auto-Submitted", "auto-replied"), ("X-Loop", OUR)],
        [("From", "clerk@city.example"), ("To", OUR), ("Subject", "Re: Re: Re: Re: Re: Re: Re: Re: Re: Re: loop"), ("X-Loop", OUR)],
        [("From", "clerk@city.example"), ("To", OUR), ("Subject", "many hops")] + [("Received", f"from hop{k}.example by hop{k + 1}.example") for k in range(60)],
        [("From", OUR), ("To", OUR), ("Subject", "references itself"), ("Message-ID", "<self@example.org>"), ("In-Reply-To", "<self@example.org>"), ("References", "<self@example.org> " * 200)],
        [("From", "clerk@city.example"), ("To", OUR), ("Subject", "precedence bulk"), ("Precedence", "bulk")],
        [("From", "clerk@city.example"), ("Reply-To", OUR), ("To", OUR), ("Subject", "reply-to us")],
        [("Return-Path", "<>"), ("From", OUR), ("To", OUR), ("Subject", "null sender from us")],
        [("From", OUR.upper()), ("To", OUR), ("Subject", "upper-case us")],
    ]
    for n, headers in enumerate(variants):
        yield f"mail-loop-{n}", _msg(8000 + n, headers, body="Automatic message.\n" * (n + 1))


def odd_encodings(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    cte = ["base64", "quoted-printable", "x-uuencode", "7bit", "binary", "bogus", "base64; extra", "BASE64"]
    bodies = ["!!!not base64!!!", "=ZZ=\r\nbroken qp =", "begin 644 x\r\n`\r\nend\r\n", "\x00\x01\x02", "SGVsbG8gd29ybGQ", "=?=?=?="]
    n = 0
    for enc in cte:
        for body in bodies:
            if n >= 30:
                break
            yield f"cte-{enc.split(';')[0]}-{n}", _msg(
                9000 + n,
                [("From", "a@city.example"), ("To", OUR), ("Subject", f"cte {n}"), ("MIME-Version", "1.0"),
                 ("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", enc)],
                body=body,
            )
            n += 1
    yield "bad-date", _msg(9100, [("From", "a@city.example"), ("To", OUR), ("Date", "Feb 30 99999 25:61:61 +9999")])
    yield "date-year-zero", _msg(9101, [("From", "a@city.example"), ("To", OUR), ("Date", "Mon, 01 Jan 0000 00:00:00 +0000")])
    yield "content-type-garbage", _msg(9102, [("From", "a@city.example"), ("To", OUR), ("Content-Type", ";;;===;;; charset")])
    yield "html-only-with-script", _msg(
        9103,
        [("From", "a@city.example"), ("To", OUR), ("Content-Type", "text/html")],
        body="<html><script>alert(1)</script><style>x{}</style><p>Records attached <img src=x onerror=alert(2)></p>" + "<div>" * 5000,
    )
    yield "winmail-dat", _multipart(
        9104, parts=['Content-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Disposition: attachment; filename="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.b64encode(b"\x78\x9f\x3e\x22" + rng.randbytes(500)).decode()]
    )
    yield "malformed-dsn", _msg(
        9105,
        [("From", "MAILER-DAEMON@mx.city.example"), ("To", OUR), ("Subject", "Delivery Status Notification (Failure)"),
         ("Content-Type", 'multipart/report; report-type=delivery-status; boundary="R"')],
        body="--R\nContent-Type: message/delivery-status\n\nFinal-Recipient rfc822;\nAction: ???\n--R\nContent-Type: message/rfc822\n\ntruncated",
    )


GENERATORS = (
    truncated, missing_boundaries, lying_charsets, eight_bit_headers, sizes, deep_nesting,
    garbage, attachment_names, header_injection, mail_loops, odd_encodings,
)


def corpus(seed: int = 20250211) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    items: list[tuple[str, bytes]] = []
    for generator in GENERATORS:
        items.extend(generator(rng))
    return items

"""Hostile and legitimate sender forms for the unknown-sender rule, generated (nothing copied from real mail).

Every spoof form claims Beverly Hills (beverlyhills.org, the seeded portal city) in a way some reader could
believe; every legitimate form is the same agency writing in an unusual but honest shape. Each is crossed
with each kind of thread evidence an outsider can copy from our letter.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime

AGENCY_DOMAIN = "beverlyhills.org"
CLERK = f"clerk@{AGENCY_DOMAIN}"
ATTACKER = "attacker@evil.example"
PORTAL_DOMAINS = ("mycusthelp.net", "nextrequest.com", "justfoia.com")
OUR = "records@example.org"
_serial = itertools.count(1)

Headers = list[tuple[str, str]]

# name -> the From/Sender header lines that stand in for the author.
SPOOF_SENDERS: dict[str, Headers] = {
    "encoded_display_name": [("From", f"=?utf-8?q?clerk=40{AGENCY_DOMAIN}?= <{ATTACKER}>")],
    "angle_then_at": [("From", f"<{CLERK}>@evil.example")],
    "two_addresses": [("From", f"{CLERK}, {ATTACKER}")],
    "two_addresses_agency_second": [("From", f"{ATTACKER}, Clerk <{CLERK}>")],
    "group_syntax": [("From", f"Records: {CLERK};")],
    "empty_group_then_address": [("From", f"undisclosed:; {CLERK}")],
    "bare_encoded_word": [("From", f"=?utf-8?q?clerk=40{AGENCY_DOMAIN}?=")],
    "encoded_local_part": [("From", f"=?utf-8?q?clerk?=@{AGENCY_DOMAIN}")],
    "two_from_headers": [("From", CLERK), ("From", ATTACKER)],
    "two_from_headers_agency_second": [("From", ATTACKER), ("From", CLERK)],
    "sender_without_from": [("Sender", CLERK)],
    "route_to_attacker": [("From", f"<@{AGENCY_DOMAIN}:{ATTACKER}>")],
    "route_to_agency": [("From", f"<@evil.example:{CLERK}>")],
    "second_at": [("From", f"{CLERK}@evil.example")],
    "address_as_display_name": [("From", f"{CLERK} <{ATTACKER}>")],
    "quoted_address_as_name": [("From", f'"{CLERK}" <{ATTACKER}>')],
    "kelvin_sign_local_part": [("From", f"cler\u212a@{AGENCY_DOMAIN}")],  # lower() makes it "clerk"
    "cyrillic_domain": [("From", "clerk@beverlyhi\u0406ls.org")],
    "free_mail": [("From", "Beverly Hills Records <beverlyhills.records@gmail.com>")],
    "look_alike_hyphen": [("From", "clerk@beverlyhills-org.com")],
    "look_alike_digits": [("From", "clerk@beverlyhi11s.org")],
    "agency_domain_as_subdomain": [("From", f"clerk@{AGENCY_DOMAIN}.evil.example")],
    "agency_domain_as_suffix": [("From", f"clerk@not{AGENCY_DOMAIN}")],
    "trailing_dot": [("From", f"clerk@{AGENCY_DOMAIN}.")],
    "no_from": [],
    # Encoded words where an address belongs: the parser would decode them into the agency's address.
    "encoded_angle_address": [("From", f"Clerk <=?utf-8?q?clerk=40{AGENCY_DOMAIN}?=>")],
    "encoded_domain": [("From", f"clerk@=?utf-8?q?{AGENCY_DOMAIN}?=")],
    "encoded_name_with_angle_address": [("From", f"=?utf-8?q?Clerk_=3Cclerk=40{AGENCY_DOMAIN}=3E?= <{ATTACKER}>")],
    "encoded_bare_b64": [("From", "=?utf-8?b?Y2xlcmtAYmV2ZXJseWhpbGxzLm9yZw==?=")],  # clerk@beverlyhills.org
    "angle_then_at_with_name": [("From", f"City Clerk <{CLERK}>@evil.example")],
    "two_angle_addresses": [("From", f"Clerk <{CLERK}> <{ATTACKER}>")],
    "two_addresses_semicolon": [("From", f"{CLERK}; {ATTACKER}")],
    "group_with_both": [("From", f"Staff: {CLERK}, {ATTACKER};")],
    "group_quoted_name": [("From", f'"Records Office": Clerk <{CLERK}>;')],
    "three_from_headers": [("From", ATTACKER), ("From", CLERK), ("From", CLERK)],
    "empty_from_and_sender": [("From", ""), ("Sender", CLERK)],
    "sender_without_from_named": [("Sender", f"City Clerk <{CLERK}>")],
    "percent_hack": [("From", f"clerk%{AGENCY_DOMAIN}@evil.example")],
    "free_mail_agency_local_part": [("From", "clerk.beverlyhills.org@outlook.com")],
    "free_mail_agency_name": [("From", f"City of Beverly Hills <{AGENCY_DOMAIN.replace('.', '')}@yahoo.com>")],
    "look_alike_tld": [("From", "clerk@beverlyhills.co")],
    "look_alike_punycode": [("From", "clerk@xn--beverlyhlls-ujb.org")],
}

LEGIT_SENDERS: dict[str, Headers] = {
    "plain": [("From", CLERK)],
    "display_name": [("From", f"Jane Clerk <{CLERK}>")],
    "encoded_display_name": [("From", f"=?utf-8?q?Jos=C3=A9_Clerk?= <{CLERK}>")],
    "raw_utf8_display_name": [("From", f"José Clerk <{CLERK}>")],
    "quoted_name_with_comma": [("From", f'"Clerk, City of Beverly Hills" <{CLERK}>')],
    "comment": [("From", f"{CLERK} (City Clerk)")],
    "mixed_case": [("From", "City Clerk <Clerk@BeverlyHills.ORG>")],
    "subdomain": [("From", f"records@ci.{AGENCY_DOMAIN}")],
    "from_and_sender": [("From", f"City Clerk <{CLERK}>"), ("Sender", "bounces@mailer.mycusthelp.net")],
    "folded": [("From", f"\"City of Beverly Hills, Office of the City Clerk\"\r\n <{CLERK}>")],
    "portal_govqa": [("From", "City of Beverly Hills <cityofbeverlyhills@mycusthelp.net>")],
    "portal_nextrequest": [("From", "Beverly Hills via NextRequest <donotreply@nextrequest.com>")],
    "portal_justfoia": [("From", "notifications@justfoia.com")],
}


@dataclass(frozen=True)
class Target:
    """One of our requests as an outsider could learn it from our letter."""

    request_id: int
    reference: str
    reply_address: str
    message_id: str
    tracking_number: str


# name -> what an outsider adds to aim at the request: (extra headers, subject).
EVIDENCE: dict[str, Callable[[Target], tuple[Headers, str]]] = {
    "reply_address": lambda t: ([("To", t.reply_address)], "Your records request"),
    "in_reply_to": lambda t: ([("To", OUR), ("In-Reply-To", t.message_id), ("References", t.message_id)], "Re: records"),
    "subject_reference": lambda t: ([("To", OUR)], f"RE: [{t.reference}] Public records request"),
    "tracking_number": lambda t: ([("To", OUR)], f"Request {t.tracking_number} update"),
}


def fee_body(target: Target) -> str:
    return (
        f"Regarding request {target.tracking_number}: the estimated fee for copies is $850.00. Payment is due "
        f"before the records are released. Pay online at https://pay.example/cbh/{target.request_id}.\n\nCity Clerk"
    )


def raw_mail(sender: Headers, extra: Headers, subject: str, body: str, *, more: Headers | None = None) -> bytes:
    """Bytes as a mail client would send them; header values go out exactly as given (UTF-8 when not ASCII)."""
    lines: Headers = list(sender) + list(extra) + [
        ("Subject", subject),
        ("Date", format_datetime(dt.datetime(2025, 2, 20, 9, 0, tzinfo=dt.timezone.utc))),
        ("Message-ID", f"<spoof-{next(_serial)}@test.example>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ] + list(more or [])
    head = "".join(f"{name}: {value}\r\n" for name, value in lines)
    return (head + "\r\n" + body.replace("\n", "\r\n") + "\r\n").encode("utf-8")

"""Public mail providers: anyone can get an address there, so such a domain never vouches for an agency.

A small clerk's office that writes from a free-mail account is known by that exact address only; the
directory may list the domain (the CSV import adds the domain of each address), but it does not count.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "aim.com", "aol.com", "att.net", "bellsouth.net", "charter.net", "comcast.net", "cox.net",
        "earthlink.net", "fastmail.com", "fastmail.fm", "gmail.com", "gmx.com", "gmx.de", "gmx.net",
        "googlemail.com", "hey.com", "hotmail.com", "hotmail.co.uk", "hushmail.com", "icloud.com",
        "inbox.com", "juno.com", "live.com", "mac.com", "mail.com", "mail.ru", "me.com", "msn.com",
        "netzero.net", "optonline.net", "outlook.com", "pm.me", "proton.me", "protonmail.com",
        "protonmail.ch", "rocketmail.com", "sbcglobal.net", "tutanota.com", "tuta.io", "verizon.net",
        "web.de", "yahoo.com", "yahoo.co.uk", "yandex.com", "yandex.ru", "ymail.com", "zoho.com",
        "zohomail.com",
    }
)


def is_free_mail(domain: str) -> bool:
    """The domain, or a parent of it, is a public provider (mail.yahoo.com counts as yahoo.com)."""
    labels = domain.strip().lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in FREE_MAIL_DOMAINS for i in range(len(labels) - 1))

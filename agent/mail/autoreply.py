"""Tell machine mail from people's mail: bounces and auto-replies never count as an agency's answer."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.pipeline.stage_data import MessageKind

# Senders that only ever speak for a mail system (RFC 3464 reports and their older cousins).
_BOUNCE_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "bounce", "bounces"})
_BOUNCE_SUBJECT = re.compile(
    r"^(?:undeliver(?:able|ed)|delivery status notification \(failure\)|mail delivery (?:failed|failure|system)"
    r"|returned mail|failure notice|delivery failure|nondeliverable|non-delivery)",
    re.IGNORECASE,
)
# Out-of-office subjects in the languages agencies' mail systems commonly use.
_OOO_SUBJECT = re.compile(
    r"\b(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response|autoresponse"
    r"|away from (?:the |my )?office|on vacation|on leave|abwesenheitsnotiz|automatische antwort"
    r"|r[ée]ponse automatique|respuesta autom[áa]tica|fuera de la oficina)\b",
    re.IGNORECASE,
)
# "bulk" is not here: records portals and city mail systems send real notices (acknowledgments, extensions,
# fee letters) with Precedence: bulk, so on its own it says only that a machine sent the mail.
_AUTO_PRECEDENCE = frozenset({"auto_reply", "junk"})


def detect_kind(
    headers: Sequence[tuple[str, str]], *, from_addr: str, subject: str, content_type: str, report_type: str = ""
) -> MessageKind:
    """Classify by headers alone; bounce wins over auto-reply because a DSN may carry both marks."""
    names = {name for name, _ in headers}
    values = {name: value.strip().lower() for name, value in reversed(headers)}  # first occurrence wins
    local = from_addr.partition("@")[0].lower()
    if content_type == "multipart/report":
        # A read receipt (disposition-notification) is automatic but not a failure.
        return "auto_reply" if report_type.lower() == "disposition-notification" else "bounce"
    if "x-failed-recipients" in names or local in _BOUNCE_LOCALPARTS:
        return "bounce"
    if _BOUNCE_SUBJECT.search(subject.strip()) and not from_addr:
        return "bounce"
    # RFC 3834: "auto-replied" is a vacation-style answer. "auto-generated" is any machine-made mail,
    # and records portals stamp their acknowledgments and extension notices with it: those are the
    # agency's real answers, so that value alone does not make an auto-reply.
    auto_submitted = values.get("auto-submitted", "no").split(";")[0].strip()
    if auto_submitted.startswith("auto-replied"):
        return "auto_reply"
    if names & {"x-autoreply", "x-autorespond"}:
        return "auto_reply"
    if values.get("precedence", "") in _AUTO_PRECEDENCE:
        return "auto_reply"
    if _OOO_SUBJECT.search(subject):
        return "auto_reply"
    return "reply"

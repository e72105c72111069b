"""Cleaning: every common quote style, echoes of our letter, signatures, disclaimers, learned boilerplate."""

from __future__ import annotations

import pytest

from agent.pipeline.clean import clean
from agent.pipeline.stage_data import ThreadContext
from agent.pipeline.units import fingerprint

NEW = "The requested records are attached. Please let me know if anything is missing."
OLD = "Please send me all contracts with Flock Safety from 2020 to the present."


@pytest.fixture
def rules(understand_rules):
    return understand_rules.clean


@pytest.mark.parametrize(
    "quoted",
    [
        f"On Mon, Feb 3, 2025 at 10:00 AM Joe Requester <joe@example.org> wrote:\n> {OLD}\n> Thanks",
        f"On Monday, February 3, 2025, Joe Requester <joe@example.org>\nwrote:\n\n{OLD}",
        f"From: Joe Requester <joe@example.org>\nSent: Monday, February 3, 2025 10:00 AM\nTo: Records <records@city.gov>\nSubject: Records request\n\n{OLD}",
        f"________________________________\nFrom: Joe Requester <joe@example.org>\nSent: Monday, February 3, 2025 10:00 AM\nTo: Records\nSubject: Records request\n\n{OLD}",
        f"*From:* Joe Requester <joe@example.org>\n*Date:* February 3, 2025\n*Subject:* Records request\n\n{OLD}",
        f"-----Original Message-----\nFrom: Joe Requester\nSent: Monday, February 3, 2025\n\n{OLD}",
        f"From: Joe Requester <joe@example.org> Sent: Monday, February 3, 2025 10:00 AM To: Records Subject: request\n{OLD}",
        f"---------- Forwarded message ---------\nFrom: Joe <joe@example.org>\nDate: Mon, Feb 3, 2025\n\n{OLD}",
        f"> {OLD}\n> Thanks, Joe",
    ],
    ids=["gmail", "gmail-wrapped", "outlook", "outlook-rule", "outlook-bold", "original-message", "flattened",
         "forwarded", "angle"],
)
def test_quotes_are_folded(rules, quoted):
    result = clean(f"{NEW}\n\n{quoted}\n", ThreadContext(), rules)
    assert result.text == NEW
    assert "Flock Safety" not in result.text
    assert any(f.reason == "quoted" and "Flock Safety" in f.text for f in result.folded)


def test_agency_sentences_starting_with_to_or_from_stay(rules):
    body = (
        "To: all requesters - our office will be closed Friday.\n"
        "From: next week, requests go through the Clerk.\n\n"
        "Your request has been received."
    )
    result = clean(body, ThreadContext(), rules)
    assert "To: all requesters" in result.text
    assert "From: next week" in result.text
    assert not any(f.reason == "quoted" for f in result.folded)


def test_a_message_that_is_all_quote_is_not_emptied(rules):
    body = f"From: Joe <joe@example.org>\nSent: Monday\nTo: Records\n\n{OLD}"
    assert "Flock Safety" in clean(body, ThreadContext(), rules).text


def test_echoed_request_without_quote_marks_is_folded(rules):
    letter = (
        "Pursuant to the California Public Records Act, I hereby request the following records:\n"
        "All agreements and memoranda of understanding that external agencies have signed to access ALPR data.\n"
        "The aggregate number of detections collected from 2019 to today's date."
    )
    body = (
        "Hello, in reference to the request you filed with our department:\n\n"
        "All agreements and memoranda of understanding that external agencies have signed to access ALPR data.\n\n"
        "There will be a cost of $50 per hour to fulfill your request."
    )
    result = clean(body, ThreadContext(our_texts=(letter,)), rules)
    assert "memoranda" not in result.text
    assert "$50 per hour" in result.text
    assert any(f.reason == "our_request" for f in result.folded)


def test_signature_and_disclaimer(rules):
    body = (
        "We have no records responsive to your request.\n\n"
        "Sincerely,\n\nJane Roe\nRecords Officer\nCity of Springfield\n(555) 555-0100\n\n"
        "CONFIDENTIALITY NOTICE: This e-mail and any attachments may contain confidential information. "
        "If you are not the intended recipient, please delete it."
    )
    result = clean(body, ThreadContext(), rules)
    assert result.text == "We have no records responsive to your request."
    reasons = [f.reason for f in result.folded]
    assert "signature" in reasons and "disclaimer" in reasons
    assert any("Jane Roe" in f.text for f in result.folded if f.reason == "signature")


def test_mobile_footer_is_signature(rules):
    result = clean("Records attached.\n\nSent from my iPhone", ThreadContext(), rules)
    assert result.text == "Records attached."


def test_repeated_notice_folded_first_appearance_kept(rules):
    notice = "Your request R000123-010125 has been received and will be processed in the order received."
    first = clean(notice, ThreadContext(), rules)
    assert first.text == notice
    second_body = "An invoice of $12.00 is due before release.\n\n" + notice.replace("R000123", "R000999")
    second = clean(second_body, ThreadContext(earlier_texts=(notice,)), rules)
    assert second.text == "An invoice of $12.00 is due before release."
    assert [f.reason for f in second.folded] == ["repeated_in_thread"]


def test_domain_boilerplate_folded_with_masks(rules):
    footer = "To check on your request, visit https://portal.example.gov/r/abc123?t=XYZ or call 555-0100 before 3/4/2025."
    learned = frozenset({fingerprint(footer.replace("abc123?t=XYZ", "zzz").replace("3/4/2025", "1/1/2024"))})
    result = clean(f"Your records are ready.\n\n{footer}", ThreadContext(domain_fingerprints=learned), rules)
    assert result.text == "Your records are ready."
    assert [f.reason for f in result.folded] == ["learned_boilerplate"]


def test_fingerprints_mask_volatile_parts():
    a = "Request CRM-25-191 was updated on 02/11/2025, see https://x.example/a?tok=1"
    b = "Request CRM-26-7 was updated on March 3, 2026, see https://x.example/b?tok=2"
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint("Thanks") is None


def test_full_body_is_never_lost(rules):
    body = f"{NEW}\n\nRegards,\nAmy\n\nOn Mon, Feb 3, 2025 at 10:00 AM Joe wrote:\n> {OLD}"
    result = clean(body, ThreadContext(), rules)
    pieces = [result.text] + [f.text for f in result.folded]
    for word in ("records are attached", "Amy", "Flock Safety"):
        assert any(word in piece for piece in pieces)


def test_reprocessing_does_not_fold_a_message_against_itself(rules):
    body = "Your request has been received and assigned number 25-118.\n\nWe will respond within ten business days."
    first = clean(body, ThreadContext(), rules)
    stored = "\n\n".join([first.text] + [f.text for f in first.folded])
    again = clean(body, ThreadContext(earlier_texts=(stored,)), rules)
    assert again.text == first.text


def test_name_block_without_signoff_is_a_signature(rules):
    body = (
        "The estimated cost is $350.00.\n\nThank you for your patience.\n\nMelissa Robinson\n\nRecords Supervisor\n\n"
        "Sent from my Verizon, Samsung Galaxy smartphone"
    )
    result = clean(body, ThreadContext(), rules)
    assert result.text == "The estimated cost is $350.00.\n\nThank you for your patience."
    # Short answer lines ending in a full stop are content, not a signature.
    answers = "Hits during 2019:\n\nFive.\n\nHits during 2020:\n\nFour."
    assert clean(answers, ThreadContext(), rules).text == answers


@pytest.mark.parametrize("signoff", ["With regards,", "Best regards,", "Respectfully submitted,", "Yours sincerely,", "Cheers,"])
def test_signoffs(rules, signoff):
    body = f"Your request has been received.\n\n{signoff}\nThe Clerk's Office\nThis message concerns request CRM-26-441.\n200 Wharf Street"
    assert clean(body, ThreadContext(), rules).text == "Your request has been received."

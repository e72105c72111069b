"""Act reading: clause modes per sentence, and the issue's conditional and boilerplate shapes, in our own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.pipeline.acts import load_act_rules, read
from agent.pipeline.autoapply import Thresholds, decide
from agent.pipeline.rules import RulesError
from agent.pipeline.stage_data import ThreadContext, parsed_from_text
from agent.pipeline.understand import understand

RULES = Path(__file__).resolve().parents[2] / "rules"

# (sentence, the clause mode it is read in; None: a present act)
MODES = [
    ("If any responsive records are located, we will provide them to you.", "mode.hypothetical"),
    ("Should the fees exceed $50, you will be notified before work begins.", "mode.hypothetical"),
    ("Once the review is complete, the records will be released to you.", "mode.hypothetical"),
    ("If you are not satisfied with this response, you may file an appeal within 90 days.", "mode.appeal_rights"),
    ("You have the right to appeal this decision to the agency head.", "mode.appeal_rights"),
    ("You may also contact the Office of Government Information Services for mediation.", "mode.appeal_rights"),
    ("Some of the information may be exempt from disclosure, which we will identify in our response.", "mode.notice"),
    ("Fees may be charged for staff time beyond the first hour.", "mode.notice"),
    ("Portions of the records may be redacted to protect privacy.", "mode.notice"),
    ("If this is not the data you wanted, please disregard this message.", "mode.disregard"),
    ("If you would like a formal letter stating that no records exist, please reply to this email.", "mode.offer"),
    ("04/02/2024 Partial Release", "mode.history"),
    ("Request history", "mode.history"),
    # present acts stay present
    ("After a diligent search, no responsive records were located.", None),
    ("The records you requested are attached.", None),
    ("Your request is denied under the law enforcement exemption.", None),
    ("When we receive your payment of $20, we will send the records.", None),
    ("Three pages have been withheld in part under the privacy exemption.", None),
    ("The estimated total for your request is $85.", None),
]


@pytest.mark.parametrize("sentence,mode", MODES)
def test_clause_mode_of_a_sentence(sentence, mode):
    reading = read(sentence, load_act_rules(RULES))
    assert [s.mode for s in reading.sentences] == [mode]


def test_each_sentence_gets_its_own_mode():
    text = "The records are attached. If you have any questions, please call. 04/02/2024 Partial Release"
    reading = read(text, load_act_rules(RULES))
    assert [s.mode for s in reading.sentences] == [None, "mode.disregard", "mode.history"]
    assert "partial release" not in reading.visible("batch")
    assert "the records are attached" in reading.visible("final_records")


def test_act_rules_are_validated(tmp_path):
    (tmp_path / "acts.toml").write_text('[[mode]]\nid = "m"\nsuppresses = ["nonsense"]\npatterns = ["x"]\n')
    with pytest.raises(RulesError, match="suppresses"):
        load_act_rules(tmp_path)
    (tmp_path / "acts.toml").write_text('[[mode]]\nid = "m"\nsuppresses = ["denial"]\npatterns = ["("]\n')
    with pytest.raises(RulesError, match="bad regex"):
        load_act_rules(tmp_path)
    (tmp_path / "acts.toml").unlink()
    assert load_act_rules(tmp_path).modes == ()


# The shapes issue 14 lists as failing on unseen mail, each in our own words: (label, text).
ISSUE_SHAPES = [
    # an acknowledgment that warns about exemptions is not a denial
    ("acknowledgment",
     "Thank you for your request, which we received on May 3. We are reviewing it now. Please note that some of the "
     "information you asked for may be exempt from disclosure, which we will identify in our response."),
    # a missed due date with a new date is an extension, not an acknowledgment
    ("extension",
     "We are not able to complete your request by the original due date. We will respond by June 30, 2025."),
    # appeal-rights boilerplate inside a fee letter: the fee is what matters
    ("fee",
     "The estimated cost of your request is $64.00. Please send payment to continue. If you consider this a denial, "
     "you may appeal to the Director within 30 days."),
    # a fee policy quoted in an acknowledgment asks for nothing yet
    ("acknowledgment",
     "Your request has been received and assigned to a records clerk. Copies are $0.15 per page; you will be "
     "notified before any charges over $10 are incurred."),
    # a cover note with records that also mentions the payment already made
    ("final_records",
     "Please see the attached records. Your payment of $9.50 was received, thank you."),
    # records sent by a custodian who does not have some of them
    ("final_records",
     "Attached are the inspection reports for 2022 and 2023. This office does not have the 2021 reports. This completes your request."),
    # a polite conditional after a release
    ("final_records",
     "The data you requested is attached as a spreadsheet. If this is not the data you wanted, please disregard and send a new request."),
    # "if any records are located we will ..." keeps the search open
    ("acknowledgment",
     "We have not yet identified responsive records. If any records are located, we will provide them to you as soon as possible."),
    # a portal history line is not the present act
    ("acknowledgment",
     "Your request has been received and is being processed.\nRequest history:\n03/02/2024 Request opened\n03/14/2024 Partial Release"),
    # a denial inside a decision letter
    ("denial",
     "ORDER. Having reviewed the request, the Board finds that the records are confidential personnel records. "
     "The request is therefore denied."),
    # a still-interested question is a clarification
    ("clarification",
     "Please confirm you are still interested in this request or we will close your request in ten days."),
    # a one-line staff note
    ("no_records", "Nothing turned up on our end for that address."),
]


@pytest.mark.parametrize("label,text", ISSUE_SHAPES)
def test_issue_shapes(label, text, understand_rules):
    result = understand(parsed_from_text(text), ThreadContext(), understand_rules)
    assert result.label == label, (result.label, result.confidence, result.rules)


def test_a_cancelled_cue_is_recorded_with_its_mode(understand_rules):
    text = ("We received your request. If you are not satisfied with our final response, you may appeal the denial "
            "of records to the Director.")
    result = understand(parsed_from_text(text), ThreadContext(), understand_rules)
    assert result.label == "acknowledgment"
    assert any("@mode.appeal_rights" in r for r in result.rules), result.rules


def test_a_closing_reading_of_an_unread_cover_note_never_applies_by_itself(understand_rules):
    result = understand(parsed_from_text("Please see the attached letter in response to your request."), ThreadContext(),
                        understand_rules)
    assert "attachment.unread_cover_note" in result.rules
    if result.label in {"final_records", "no_records", "denial"}:
        verdict = decide(result, Thresholds(review=0.0, closing=0.0))
        assert not verdict.auto and "cover note" in verdict.uncertain
    with_letter = parsed_from_text("Please see the attached letter.", attachment_text="Your request is denied in full under Exemption 7(A).")
    read_letter = understand(with_letter, ThreadContext(), understand_rules)
    assert "attachment.unread_cover_note" not in read_letter.rules


def test_thread_sense_rolling_production(understand_rules):
    text = "Attached are more of the records you requested."
    alone = understand(parsed_from_text(text), ThreadContext(), understand_rules)
    earlier = ("We will produce the records on a rolling basis, the first installment by May 1.",)
    in_thread = understand(parsed_from_text(text), ThreadContext(earlier_texts=earlier), understand_rules)
    assert alone.label == "final_records"
    assert in_thread.label == "batch" and "thread.rolling_production" in in_thread.rules
    final = understand(parsed_from_text("Attached is the final set of records; this completes your request."),
                       ThreadContext(earlier_texts=earlier), understand_rules)
    assert final.label == "final_records"


def test_thread_sense_still_interested_after_silence(understand_rules):
    text = "Checking in on your request from March. Do you still want us to continue with it?"
    waiting = ThreadContext(request_state="acknowledged", earlier_texts=("We received your request.",))
    result = understand(parsed_from_text(text), waiting, understand_rules)
    assert result.label == "clarification"

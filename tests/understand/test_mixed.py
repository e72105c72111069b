"""Mixed messages take the action-driving label: longer letters where several labels have some evidence."""

from __future__ import annotations

import datetime as dt

import pytest

from agent.pipeline.stage_data import ThreadContext, parsed_from_text
from agent.pipeline.understand import understand

MIXED = [
("final_records", """Dear Requester: This letter is the Department's final response to your request. Enclosed are 112 pages of records responsive to items 1 and 2. Portions have been redacted under Exemption 6. We located no records responsive to item 3. You may appeal this determination within 90 days."""),
("no_records", """Dear Requester: We conducted a thorough search of our files and did not locate any records responsive to your request. If you consider this response to be a denial, you may appeal to the Office of Information Policy within 90 days. No fees were charged for processing this request."""),
("denial", """Dear Requester: Your request is denied in full. The records are exempt under 5 U.S.C. 552(b)(7)(A) because release could reasonably be expected to interfere with enforcement proceedings. There are no fees associated with this response. You may appeal within 90 days."""),
("acknowledgment", """Thank you for your request, which we received on October 2. Please note that fees may apply for copies; we will let you know before any charges are incurred. If you need to clarify your request, please contact our office. We will respond within 10 business days."""),
("extension", """Because your request requires a search of multiple offices, we are extending the response deadline by 10 working days under 5 U.S.C. 552(a)(6)(B)(i). You may wish to narrow the scope of your request, which could speed up processing. We now expect to respond by November 12, 2025."""),
("fee", """We have received your request. Before we can begin, please pay the estimated fee of $120.00. Once payment is received, we expect to complete the request within 15 business days."""),
("clarification", """Your request for "all emails about the budget" is too broad for us to process. Please narrow it to specific senders and a date range. Note that fees may apply once we know the scope."""),
("portal_redirect", """We received your email, but the Police Department only accepts public records requests through its online portal. Please resubmit your request at https://police.govqa.us so that it can be processed."""),
("batch", """Attached is the second installment of records responsive to your request. Some records were withheld under the attorney-client privilege. The next installment is expected by December 1, 2025."""),
("acknowledgment", """Your request has been assigned number 25-3301. Please allow up to 10 business days for a response. Records that are available online can be found at www.city.gov/records."""),
("final_records", """Good afternoon. The Police Department has completed your request. The responsive report is attached; the names of juveniles were redacted as required by law. Please let us know if you have any questions."""),
("fee", """Your request has been processed and 75 pages of records are ready. The fee is $7.50. The records will be released upon receipt of payment."""),
("other", """This is an automated notification. The status of your request 2025-117 has changed. Please log in to the portal to view the update."""),
("denial", """The City is withholding the requested body camera footage under Government Code section 7923.625 because disclosure would substantially interfere with an active investigation. The City will reevaluate once the investigation concludes."""),
("no_records", """Hello, the Sheriff's Office does not have a contract with Axon and therefore has no responsive records. You may want to check with the County Purchasing Department."""),
]


@pytest.mark.parametrize(("label", "text"), MIXED, ids=[f"{label}-{i}" for i, (label, _) in enumerate(MIXED)])
def test_mixed(understand_rules, label, text):
    result = understand(parsed_from_text(text, date=dt.date(2025, 10, 14)), ThreadContext(), understand_rules)
    assert result.label == label, result.rules

"""Regenerate rules/examples_letters.jsonl: hard shapes from issue 14, in our own words, as many offices send them.

Run from the repository root: python tests/understand/make_letter_examples.py
Each core is one message whose label turns on reading the act right: a notice that asks for nothing inside an
acknowledgment, a deadline moved in the words of a missed due date, records sent by a custodian who lacks some
of them, a denial inside an order, a "still interested?" letter, a negated installment, one-line staff notes.
Every core is written out as a police department, a city, a county, a university, a state and a federal office
would carry it (greeting, signature, portal footer), with a fixed seed so the file is the same on every run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = 1403

CORE: dict[str, list[str]] = {
    "acknowledgment": [
        "We received your request on {d}. Please note that some of the information you asked for may be exempt from disclosure; we will identify any exemption in our response, which you can expect by {d2}.",
        "Your records request {n} has been received. Portions of the responsive records may be confidential under state law. If so, the reasons will be explained when we respond.",
        "Thank you for your request. For your information, our fee schedule charges $0.10 per page for paper copies and $25 per hour of staff time after the first two hours. We will tell you of any cost before work begins.",
        "This acknowledges your open records request. Under the Act, you may appeal any denial to the Attorney General within 60 days of our final response.",
        "Your request is in process. If any responsive records are located, they will be reviewed for redactions and released to you.",
        "The Department has your request. Should fees exceed $50, you will be notified and asked to approve the estimate first.",
        "Request {n} History\n{d} Request Created\n{d} Partial Release\n{d} Due Date Updated\nA new message has been posted to your request: staff are continuing to work on it.",
        "Hello, the records office has your request and it is assigned to an analyst. Records withheld in whole or part, if any, will be identified with the applicable exemption.",
        "Thank you. Your request for expedited processing is denied; your request itself has been received and will be handled in the order received.",
        "Got it, passing this to our records clerk now.",
        "Received - we'll start pulling these this week.",
        "We have logged your request as {n}. The statute allows us ten working days to respond, so expect to hear from us by {d2}.",
        "The University acknowledges receipt of your public records request. Records that are exempt under the Act will not be released, and any withholding will be explained in our final response.",
        "Your FOIA request was received on {d} and placed in the complex processing track. You have the right to seek dispute resolution services from OGIS at any time.",
        "Thank you for contacting the Sheriff's Office. Your request has been entered into our records system and forwarded to the appropriate unit.",
    ],
    "extension": [
        "We are not able to complete your request by the original due date. We will respond by {d2}.",
        "Unfortunately, we will not meet the {d} deadline for your request. The new estimated response date is {d2}.",
        "Because of the volume of emails that must be reviewed, the time to respond is extended by fourteen (14) days to {d2}.",
        "The City needs additional time to search for and review the records. We anticipate a response on or about {d2}.",
        "Your request requires consultation with another agency, so the due date has been moved to {d2}.",
        "Due to staffing shortages in the records unit, we are extending our response deadline until {d2}. We apologize for the delay.",
        "Update on request {n}: the review is taking longer than expected. We now expect to respond no later than {d2}.",
        "The Department is invoking a ten-day extension under the unusual circumstances provision. A response will be sent by {d2}.",
        "We require an additional 10 business days to respond because the records are stored off site.",
        "Sorry, we need a couple more weeks on this one. New target date is {d2}.",
        "Request {n}: Due date extended. The new due date for this request is {d2}.",
        "We cannot finish within the statutory period. The County will provide its response on or before {d2}.",
    ],
    "batch": [
        "Attached is the first installment of responsive records. We expect to send the next installment by {d2}.",
        "Here is the second set of emails. Additional records are still being reviewed and will follow as they are completed.",
        "Please find attached what we have gathered so far. We are still waiting on records from another division and will send them once received.",
        "{n} documents have been released to you in the portal. The request remains open while staff process the remaining items.",
        "This is release 2 of 4. The next release is scheduled no later than {d2}.",
        "Enclosed are the records responsive to items 1 through 3. Item 4 is still being processed and we expect to provide it by {d2}.",
        "We are producing records on a rolling basis; today's production of 300 pages is attached, and more will follow next month.",
        "Sent the first batch through the link above, the rest should be ready next week.",
    ],
    "final_records": [
        "Attached are the records responsive to your request. No further documents will follow on this matter.",
        "Please find the responsive records attached. There will be no additional releases and your request is now closed.",
        "Attached are the incident reports. The department does not have any dispatch audio for that date, as it is kept for only 90 days.",
        "Enclosed are the personnel records we located. Our office does not maintain the training certificates you asked about; those are held by the state academy.",
        "Attached is the spreadsheet you asked for. If this is not the data you wanted, please disregard and let me know what you need.",
        "Please see the attached records. Payment for future requests can be made online or by check.",
        "See attached. There is no charge for this request.",
        "Your payment was received, thank you. The records are attached.",
        "The requested body camera video is available at the link below. Some faces have been blurred to protect privacy. You may appeal any redaction within 30 days.",
        "Your request has been granted in part. Information about third parties was redacted under section 552.101. This completes our response.",
        "This is the final installment of records for your request. With this release your request is closed.",
        "Sent the files via the link above.",
        "I've uploaded the reports to your portal account.",
        "Here you go - everything we have on that address is attached.",
        "Request {n} has been closed. Documents released: report.pdf, photos.zip. Reason: records provided.",
        "Attached please find the responsive records. Should you need anything further, please do not hesitate to contact our office.",
    ],
    "no_records": [
        "After a thorough search, we did not locate any records responsive to your request. If records are found later, we will send them to you.",
        "The Police Department does not have any records matching your description.",
        "We searched the case management system and found nothing for that name and date range.",
        "No responsive records exist. Your request is now closed.",
        "Nothing turned up for that address, sorry.",
        "Request {n} has been closed. Closure reason: no responsive records.",
        "The district has no documents of that kind; we have never created such a report.",
        "Our search of the files produced no records. Please note you may appeal this response to the agency head within 30 days.",
    ],
    "denial": [
        "FINAL ORDER. Upon review, the Commission concludes that the investigative file is protected from disclosure while the case is pending. The request is therefore denied.",
        "DECISION: The appeal is denied and the initial determination to withhold the records under Exemption 7(A) is affirmed.",
        "We are withholding the requested video in its entirety because its release would interfere with an active criminal investigation.",
        "The records you requested are confidential by law and cannot be released. You may appeal this denial within 30 days.",
        "We can neither confirm nor deny the existence of records about a named third party.",
        "We won't be releasing that report; the case is still open.",
        "Your request is declined because the Act limits access to citizens of the Commonwealth.",
        "After review, the University has determined that the requested documents are exempt from disclosure as preliminary drafts, and they are withheld in full.",
    ],
    "fee": [
        "The estimated cost to process your request is $84.00. Please remit payment before we begin. You have the right to appeal this estimate.",
        "Your records are ready. The fee is $12.60 for copies; once payment is received we will email them to you.",
        "A deposit of $150 is required before we continue processing your request. If you are not satisfied with this fee, you may seek review.",
        "We located about 600 pages. At $0.15 per page the total is $90. Please confirm that you agree to pay before we make copies.",
        "Part of your request is granted. The remaining records will be released upon payment of the $40 invoice attached.",
        "Please see the attached invoice for $27.50. Records will be sent when payment is received.",
    ],
    "clarification": [
        "We have not heard from you since our last message. Please confirm that you are still interested in this request, or we will close it on {d2}.",
        "Do you still want these records? If so, reply by Friday; otherwise the request will be closed.",
        "Your request as written would cover thousands of emails. Could you narrow it by sender, recipient or search terms?",
        "Can you tell me the approximate date and location of the incident?",
        "Before we can search, we need to know which department you believe holds these records.",
        "Please let us know if you still wish to proceed with this request. If we do not hear back within 10 business days, we will consider it withdrawn.",
        "Which of the two reports are you looking for, the incident report or the supplemental?",
        "To process a request for another person's records we need their signed authorization. Please send it so we can continue.",
    ],
    "portal_redirect": [
        "We only accept records requests through our online portal. Please submit your request at the link below.",
        "This office does not hold those records. You'll want to contact the County Clerk's office directly.",
        "Your email has not been logged as a request. To file one, please use the online request form.",
        "The Police Department is a separate agency from the City. Please send your request to their records unit.",
        "We are not the custodian of those files; they are maintained by the State Department of Corrections, which you can contact at its records office.",
        "Please resubmit this request through the JustFOIA portal so it can be assigned and tracked.",
    ],
    "other": [
        "You have received a secure message. Click the link to read it. The message expires in 14 days.",
        "Your verification code is 551902. Do not share it with anyone.",
        "Please see my email of last week, which answers this.",
        "This is an automated notice: your account password was changed.",
        "Jane Doe would like to recall the message, \"Records request\".",
        "I am out of the office until Monday with limited access to email.",
    ],
}

OFFICES = [
    ("Police Department Records Unit", "Records Technician"),
    ("Office of the City Clerk", "Deputy City Clerk"),
    ("County Attorney's Office", "Public Records Coordinator"),
    ("University Office of Public Records", "Records Officer"),
    ("State Department of Transportation", "FOIA Officer"),
    ("U.S. Department of the Interior, FOIA Office", "Government Information Specialist"),
    ("Sheriff's Office", "Records Supervisor"),
    ("School District Communications Office", "Public Information Officer"),
]
GREETINGS = ["", "Hello,", "Good morning,", "Dear Requester:", "Hi there,", "Dear Sir or Madam,"]
FOOTERS = [
    "",
    "To monitor the progress or update this request please log into the Public Records Center.",
    "View your request at the portal. Questions? Reply to this email to contact staff.",
    "CAUTION: This email originated from outside of the organization.",
    "This email and any attachments are confidential and intended only for the addressee.",
]
DATES = ["May 2, 2025", "March 14, 2025", "07/08/2025", "January 21, 2025"]
LATER = ["June 30, 2025", "April 18, 2025", "08/15/2025", "February 28, 2025"]


def render(core: str, rng: random.Random) -> str:
    office, title = rng.choice(OFFICES)
    i = rng.randrange(len(DATES))
    number = rng.choice([f"{rng.randint(23, 26)}-{rng.randint(100, 9999)}", f"R{rng.randint(1000, 99999):06d}-0{rng.randint(1, 9)}2425",
                         f"PRR-2025-{rng.randint(100, 9999)}", f"2025-FOIA-{rng.randint(10000, 99999)}"])
    body = core.format(n=number, d=DATES[i], d2=LATER[i])
    parts = [rng.choice(GREETINGS), body, "Thank you," if rng.random() < 0.5 else "Regards,", f"{title}\n{office}", rng.choice(FOOTERS)]
    return "\n\n".join(p for p in parts if p)


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    for label, cores in CORE.items():
        for core in cores:
            rows.append({"label": label, "text": core.format(n="24-1187", d="May 2, 2025", d2="June 30, 2025"), "source": "make_letter_examples: plain"})
            for _ in range(2):
                rows.append({"label": label, "text": render(core, rng), "source": "make_letter_examples: letter"})
    with (ROOT / "rules" / "examples_letters.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} examples")


if __name__ == "__main__":
    main()

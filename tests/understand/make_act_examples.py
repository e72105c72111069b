"""Regenerate rules/examples_acts.jsonl: the model's phrasings of every act, in our own words, with noise.

Run from the repository root: python tests/understand/make_act_examples.py
Each core message (one act, as police departments, cities, counties, universities, state and federal
agencies, portals and staff one-liners write it) is written out plain and again wrapped in the paragraphs
real letters carry around the act: greetings, signatures, appeal-rights and exemption notices, fee
policies that ask for nothing, conditionals, portal footers and history lines. The label stays the act's,
so the model learns that the wrapping says nothing. Deterministic (fixed seed).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = 14

CORE: dict[str, list[str]] = {
    "acknowledgment": [
        "We received your public records request and it has been assigned number {n}.",
        "Your request has been logged and forwarded to the records unit for processing.",
        "This email confirms receipt of your request under the Public Records Act.",
        "Thank you for your request. Staff are reviewing it and will respond within ten business days.",
        "The Police Department acknowledges your request for incident reports. A records technician will contact you.",
        "Got your request, passing it along to our clerk.",
        "Received, thank you. We will get back to you.",
        "Your record request #{n} has been submitted. You will receive emails when there are updates.",
        "Request {n} has been received and is in the queue. Requests are processed in the order received.",
        "The University's Office of General Counsel has received your request and has begun searching for responsive documents.",
        "We have opened a file for your request and will provide a determination within the time allowed by law.",
        "Your FOIA request was received on {d} and assigned tracking number {n}. We will respond as soon as practicable.",
        "The County has your request and expects to respond by {d}.",
        "I have forwarded your email to the custodian of records, who will follow up with you directly.",
        "This is an automated confirmation that your request was created in our portal. Reference number {n}.",
        "Thanks for reaching out. We're working on pulling the reports now.",
        "Our office is gathering the records and anticipates providing them within 20 business days.",
        "Your request has been entered into our tracking system as {n}. Please use this number in future correspondence.",
        "The Department is in receipt of your request dated {d} and is processing it.",
        "We will begin our search and notify you when the review is complete.",
        "The state agency has received your open records request and routed it to the division that holds the records.",
        "Hi, I just wanted to let you know we got your request and I'm looking into it.",
        "Your request has been assigned to an analyst. Complex requests can take several weeks.",
        "This letter acknowledges your Freedom of Information Act request. Your request has been placed in the complex track.",
        "The school district confirms your request was received and will be answered within the statutory period.",
        "We are currently reviewing your request to determine whether responsive records exist. A response will follow by {d}.",
        "Your request was received by the Sheriff's Office. Processing begins on the next business day.",
        "The city clerk has logged your request and sent it to the departments likely to have records.",
        "Our records team has your request. Expect an update within five business days.",
        "Acknowledged. We'll be in touch once the search is done.",
        "The agency has received your request and your request for a fee waiver, and both are under review.",
        "Your request for expedited processing is denied, but your request itself has been received and will be processed in turn.",
        "We have entered your request into the portal on your behalf; you will receive updates from the system.",
        "Please allow up to ten working days for us to determine whether we hold the records.",
    ],
    "extension": [
        "We need an additional 15 business days to respond to your request because of the volume of records.",
        "The time to respond to your request is extended to {d} under the unusual circumstances provision.",
        "Due to the need to consult with another agency, we are extending our response date to {d}.",
        "We will not be able to complete your request by the original due date. We will respond by {d}.",
        "Your request requires more time than the law allows for an initial response; we now expect to respond on or about {d}.",
        "The due date for your request has been extended to {d}.",
        "Record request #{n} due date changed to {d}. Reason: search of electronic records is taking longer than expected.",
        "We are invoking a ten-day extension to search for and review the records.",
        "The estimated completion date for your request has been moved to {d}.",
        "Staff shortages have delayed our review. We anticipate providing a response no later than {d}.",
        "Per state law we are notifying you that we require an additional 30 days to fulfill your request.",
        "Your request is still being processed. Our revised estimate is {d}.",
        "The review is taking longer than we hoped; we'll need until {d}.",
        "We are unable to respond within five business days and will need until {d} to gather the documents.",
        "The City is extending its deadline to respond by fourteen (14) days to {d}.",
        "This is a status update: your request remains open and we will further respond no later than {d}.",
        "The Department needs additional time to locate and review the records. The new response date is {d}.",
        "Because your request involves a voluminous amount of records, we require an extension of 20 working days.",
        "Just a heads up, we need a few more weeks on this one. New target date is {d}.",
        "We have updated the expected completion date of your request to {d}.",
        "The agency cannot meet the statutory deadline and estimates that it will respond within 45 days.",
        "Your request has been delayed because responsive records must be reviewed by legal counsel. We expect to respond by {d}.",
        "The University requires additional time to respond and will do so on or before {d}.",
        "Processing will take longer than initially estimated; the estimated delivery date is now {d}.",
        "We are writing to extend the time for our response by 10 business days, to {d}.",
        "Please note the response to your request is now due {d} because of the holiday closure and staffing.",
        "We estimate it will take approximately six months to complete processing of your request.",
        "The county attorney's office needs more time to review the documents; a response will be provided by {d}.",
    ],
    "batch": [
        "Attached is the first installment of records responsive to your request. Additional records will follow.",
        "Please find the second set of emails attached. We expect to send the next set by {d}.",
        "This is a partial release. The remaining records are still under review.",
        "We are producing records on a rolling basis; today's release includes 150 pages.",
        "Here is the first batch of body camera footage. More will be provided as it is redacted.",
        "Records have been released for items 1 and 2 of your request. We are still working on item 3.",
        "Documents released: 3 files. Your request remains open while staff review additional records.",
        "Enclosed is an interim response consisting of 42 pages. The next production is scheduled for {d}.",
        "I've uploaded the first part of the records to the portal; the rest should be ready next week.",
        "This production completes items 1 through 3; item 4 will be produced by {d}.",
        "We are releasing these records in phases. Phase one is attached, phase two will follow.",
        "Attached are the records we have reviewed to date. We will continue to send records as they are processed.",
        "The third of several productions is now available for download. Further productions will follow monthly.",
        "Here are the incident reports. The dispatch audio is still being reviewed and will be sent separately.",
        "Partial records are attached; some records remain with the department for review and will be provided later.",
        "Please see the first 500 pages attached, redacted as required. We will release the remaining pages in installments.",
        "Another batch of records has been released to you in the portal. Your request is still open.",
        "We have released a portion of the responsive records and anticipate the next release on or before {d}.",
        "Sending over what we have so far. I'll send the rest once IT finishes the email search.",
        "The attached documents are the first of two releases; the second release will include the video.",
    ],
    "final_records": [
        "The records responsive to your request are attached. This completes your request.",
        "Please find the requested documents attached.",
        "Attached is the incident report you requested, with personal information redacted.",
        "Your request has been fulfilled. The documents are available at the link below.",
        "Record request #{n} has been closed. Documents were released to the requester.",
        "Enclosed please find copies of the records responsive to your request. Some information has been redacted under state law.",
        "Here you go, the report is attached.",
        "The files are too large for email, so we uploaded them to the shared drive link below. This concludes our response.",
        "The agency has completed its search and is releasing 37 pages in full and 5 pages in part.",
        "Attached are the responsive records. Certain names have been withheld to protect personal privacy; the remaining information is released.",
        "Your records are ready for download in the portal. Your request is now closed.",
        "The University is providing the attached records in response to your request. Portions are redacted as student records.",
        "All responsive records have now been produced, and your request is closed.",
        "We located the emails you asked for; they are attached as a PDF.",
        "The Sheriff's Office has processed your request; the report is attached and we consider the request complete.",
        "This is the final installment of records. With this release your request is complete.",
        "Records have been provided through the secure link. We do not have the 2019 logs, but everything else you asked for is included.",
        "I have attached the spreadsheet you requested. Let me know if you have trouble opening it.",
        "Please see the attached documents in response to your request. If this is not the data you were looking for, please disregard and submit a new request.",
        "Sent via Dropbox, let me know if the link does not open.",
        "The custodian does not have the 2015 minutes, but the remaining minutes are attached.",
        "Your payment was received. The requested records are attached.",
        "Our search located 12 responsive pages, which are enclosed. Two pages are withheld in part under Exemption 6.",
        "The documents have been released to you in full. No further action is needed.",
        "Responsive records were posted to your portal account today and the request has been marked completed.",
        "The video you requested is available for pickup at the front desk; no charge applies. This closes the request.",
    ],
    "no_records": [
        "After a diligent search, we did not locate any records responsive to your request.",
        "The Department has no records matching your description.",
        "Our search produced no responsive documents.",
        "We do not have any emails that meet your criteria.",
        "There are no records responsive to your request; the incident was not reported to this agency.",
        "Nothing turned up on our end for that address.",
        "The records you requested do not exist. We do not create or keep that type of report.",
        "We searched the case management system and found no matching entries.",
        "Record request #{n} has been closed. No responsive records were found.",
        "The University does not maintain records of that kind, and a search of the relevant offices found none.",
        "We were unable to locate any responsive records.",
        "I checked with the department and they don't have anything like that.",
        "No documents exist that are responsive to your request. This closes your request.",
        "The city has no record of a contract with that vendor.",
        "A thorough search of the files was conducted and no records were identified.",
        "Unfortunately, we have no body camera footage for that date; the cameras were not in use.",
        "The agency has determined that it holds no records responsive to your request.",
        "Your request is closed: no records. The county did not receive any complaints during that period.",
        "We have no responsive documents. The report you describe was never generated.",
        "The search of our databases returned zero results for the names you provided.",
        "Those records were destroyed under the retention schedule before your request arrived, so none exist.",
    ],
    "denial": [
        "Your request is denied under Government Code section 7923.600 because the records are investigatory.",
        "The records are exempt from disclosure and are being withheld in their entirety.",
        "We must deny your request because the records relate to an ongoing criminal investigation.",
        "Access to the requested personnel files is denied under the privacy exemption.",
        "The agency is withholding all responsive records under Exemptions 5 and 7(A).",
        "We can neither confirm nor deny the existence of records responsive to your request.",
        "Your request is refused because the records are protected by attorney-client privilege.",
        "The requested footage will not be released because its disclosure would endanger an ongoing investigation.",
        "The Department declines to produce the records; they are confidential under state law.",
        "Record request #{n} has been closed. Reason: the records are exempt from disclosure.",
        "Your request is denied. The records are confidential juvenile records.",
        "The University denies your request in full; the records are education records protected by federal law.",
        "After review, the responsive records are being withheld in full under the deliberative process privilege.",
        "The commission's decision: the request is denied because the law applies only to citizens of this state.",
        "We won't be releasing those; they're part of an active case.",
        "This office is unable to provide the records because disclosure is prohibited by statute.",
        "The request is denied as unduly burdensome, because it would require the review of every email in the department.",
        "Pursuant to the order of the court, the records are sealed and cannot be released.",
        "Final agency decision: the appeal is denied and the withholding of the records is affirmed.",
        "All responsive records are withheld; no portion can be segregated and released.",
    ],
    "fee": [
        "The estimated cost to fulfill your request is $125.00. Please remit payment before we proceed.",
        "A deposit of $50 is required before we begin processing your request.",
        "The records are ready. The copying fee is $12.40; once we receive payment we will send them.",
        "Your request will require about 6 hours of staff time at $30 per hour, for a total of $180. Please confirm you agree to pay.",
        "Invoice {n} for $8.25 is attached. Payment can be made online or by check.",
        "Please pay the $15 fee to receive the recording.",
        "The cost estimate for your request is $450. Let us know whether you would like to proceed or narrow the request.",
        "There is a charge of $0.10 per page for the 320 pages located, $32.00 in total, due before release.",
        "Your fee waiver request is denied. The estimated fees are $75; please indicate your willingness to pay.",
        "A payment of $22.50 is due. The records will be released upon receipt of payment.",
        "We located the records; they will cost $5 for the CD. Would you like us to mail it once paid?",
        "Before we can continue, we need a 50% deposit of $210 as allowed by law.",
        "Records are available after payment. Balance due: $18.00.",
        "The invoice for your request is attached. Please pay within 30 days or your request will be closed.",
        "Part of your request is granted; the remaining records can be provided for a fee of $64. Please send payment.",
        "Processing your request will cost $1,240 in programming and review time. We require your written agreement to pay before we begin.",
        "The charge for certified copies is $3 each, $27 for your request. Checks payable to the County Treasurer.",
        "Your request exceeds the free allowance; the remaining 2 hours of search time will be billed at $25 per hour. Please confirm.",
    ],
    "clarification": [
        "Could you please clarify which records you are seeking?",
        "Please provide a date range so we can search for the records.",
        "Can you give me a date range?",
        "Your request is too broad for us to search. Please narrow it by subject or custodian.",
        "What specific incident or case number are you referring to?",
        "Please confirm you are still interested in this request, or we will close it in 30 days.",
        "Are you still interested in these records? If we do not hear from you by {d}, we will close your request.",
        "We need more information to process your request: the address and approximate date of the incident.",
        "Do you want the full reports or just the summary pages?",
        "Please let us know whether you would like the emails in PDF or native format.",
        "Would you like to narrow your request to reduce the volume of records?",
        "We would like to confer with you about the scope of your request. When are you available for a call?",
        "Your request as written would return thousands of emails. Can you provide search terms?",
        "Please reply to confirm whether you want us to continue processing your request.",
        "Before we proceed, please tell us which of the three programs your request concerns.",
        "Do you still want the records? Let me know and I'll keep it open.",
        "We found records dating back only to 2010. If you would like a formal no-records letter for earlier years, reply with that choice, or submit a new request for 2010 onward.",
        "To identify the records, please provide the full name and date of birth of the person involved.",
        "Which time period should we search?",
        "We require proof of your identity or the subject's consent before we can process this request.",
    ],
    "portal_redirect": [
        "Please submit your request through our online portal at the link below.",
        "We only accept public records requests through the GovQA portal.",
        "This office does not hold those records. Please send your request to the County Clerk.",
        "You have reached the wrong department; records of arrests are kept by the State Police.",
        "Our office is not the custodian of these records; please contact the Department of Corrections.",
        "Requests must be submitted using the request form on our website. Email requests are not processed.",
        "Please resubmit your request through NextRequest so it can be tracked.",
        "This mailbox does not accept FOIA requests. Please use the national FOIA portal.",
        "Your email has not been logged as a request. Please create an account on our portal and submit it there.",
        "That's a county record, not a city one, you'll want to contact the county recorder.",
        "The records you seek are maintained by the school district, not the city. Their records office can be reached at the address below.",
        "According to our fiscal unit, this request should go to the procurement office's records mailbox.",
        "Please file your request with the agency that created the records; we only have copies received from them.",
        "Court records are held by the Clerk of Court. Please direct your request to them.",
        "To request police reports, please use the records request page on the police department's website.",
        "We have forwarded nothing; you will need to send your request to the university system office.",
    ],
    "other": [
        "You have received a secure message. Click the link to read it.",
        "Your one-time passcode is {n}.",
        "The sender would like to recall the message sent earlier today.",
        "Please see my email of {d} regarding your request.",
        "This message was sent from an unmonitored address.",
        "A document has been shared with you. Sign in to view it.",
        "Your account password was reset. If this was not you, contact support.",
        "Please refer to the response sent to you previously.",
        "The portal will be unavailable this weekend for maintenance.",
        "Your message could not be delivered to one or more recipients.",
        "Thank you for your email. I am out of the office until Monday with limited access to email.",
        "Please verify your email address to activate your account.",
        "We have updated our privacy policy.",
        "This is a test message, please ignore.",
        "Request {n}: a message was added to your request. Log in to view it.",
        "Reminder: your download link expires on {d}.",
        "Thank you, I will pass this along.",
        "Please see below.",
    ],
}

# What real letters wrap around the act: none of it changes the label.
GREETINGS = ["Good morning,", "Hello,", "Dear Requester:", "Hi there,", "Dear Sir or Madam:", "Good afternoon.", ""]
SIGNATURES = [
    "Records Unit\nMetro Police Department",
    "Sincerely,\nOffice of the City Clerk",
    "Thank you,\nPublic Records Officer, County of Harlan",
    "FOIA Officer\nOffice of General Counsel",
    "Regards,\nSgt. P. Alvarez #2210",
    "University Records Office",
    "Open Records Coordinator | Department of Transportation",
    "",
]
NOISE = [
    # appeal rights
    "If you are not satisfied with this response, you may file an administrative appeal within 90 days. "
    "You may also contact the Office of Government Information Services for mediation.",
    "You have the right to appeal this determination to the head of the agency within 30 days.",
    # exemption notices that decide nothing yet
    "Some of the information you requested may be exempt from disclosure, which we will identify in our response.",
    "Please be aware that portions of responsive records may be redacted under applicable exemptions.",
    # fee policies that ask for nothing yet
    "Copies are $0.10 per page. You will be notified before any fees over $25 are incurred.",
    "Fees may be charged for staff time in accordance with our fee schedule.",
    # conditionals
    "If any additional records are located, we will provide them to you.",
    "If you have any questions, please contact our office.",
    "Should we need clarification, we will contact you.",
    # portal footers and history
    "To monitor the progress or update this request please log into the portal.",
    "Questions about your request? Reply to this email or sign in to contact staff.",
    "Request history:\n03/02/2024 Request opened\n03/14/2024 Partial Release",
    # mail noise
    "CAUTION: This email originated from outside the organization. Do not click links unless you recognize the sender.",
    "This message may contain confidential information intended only for the addressee.",
]
# Noise that would change the reading of some labels is not added to them.
_NOT_WITH = {
    "other": set(range(len(NOISE))),  # other stays bare: automated notices come without letters
}


def _fill(text: str, rng: random.Random) -> str:
    number = f"{rng.choice(['', 'PRR-', 'R00', 'FOIA-'])}{rng.randint(20, 25)}-{rng.randint(100, 9999)}"
    months = ["January", "March", "April", "June", "August", "October", "December"]
    date = f"{rng.choice(months)} {rng.randint(1, 28)}, 20{rng.randint(23, 26)}"
    return text.replace("{n}", number).replace("{d}", date)


def rows() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    out: list[dict[str, str]] = []
    for label, cores in CORE.items():
        for core in cores:
            out.append({"label": label, "text": _fill(core, rng), "source": "make_act_examples: plain"})
            allowed = [i for i in range(len(NOISE)) if i not in _NOT_WITH.get(label, set())]
            for _ in range(3):
                parts = [rng.choice(GREETINGS), _fill(core, rng)]
                if allowed:
                    for index in rng.sample(allowed, k=rng.randint(1, 2)):
                        parts.insert(rng.choice([1, len(parts)]), NOISE[index])
                parts.append(rng.choice(SIGNATURES))
                text = "\n\n".join(p for p in parts if p)
                out.append({"label": label, "text": text, "source": "make_act_examples: wrapped"})
    return out + mixed_rows(rng)


# Mixed letters take the action-driving label (../shared/corpus/README.md): (first act, second act) -> label.
MIXED = [
    ("acknowledgment", "fee", "fee"),
    ("acknowledgment", "clarification", "clarification"),
    ("acknowledgment", "portal_redirect", "portal_redirect"),
    ("acknowledgment", "extension", "extension"),
    ("acknowledgment", "no_records", "no_records"),
    ("acknowledgment", "denial", "denial"),
    ("acknowledgment", "final_records", "final_records"),
    ("acknowledgment", "batch", "batch"),
    ("batch", "fee", "fee"),
    ("final_records", "fee", "fee"),
    ("extension", "clarification", "clarification"),
    ("no_records", "fee", "fee"),
]


def mixed_rows(rng: random.Random) -> list[dict[str, str]]:
    out = []
    for first, second, label in MIXED:
        for _ in range(12):
            parts = [rng.choice(GREETINGS), _fill(rng.choice(CORE[first]), rng), _fill(rng.choice(CORE[second]), rng)]
            if rng.random() < 0.5:
                parts.insert(rng.choice([2, 3]), rng.choice(NOISE))
            parts.append(rng.choice(SIGNATURES))
            out.append({"label": label, "text": "\n\n".join(p for p in parts if p), "source": f"make_act_examples: {first}+{second}"})
    return out


def main() -> None:
    target = ROOT / "rules" / "examples_acts.jsonl"
    with target.open("w", encoding="utf-8") as handle:
        for row in rows():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows())} examples to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

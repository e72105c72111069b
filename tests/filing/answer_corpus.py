"""Twenty agencies answering the ALPR letter (items A1–A7, B1–B4 for 2019–2020, C1–C3), each in its own style.

Each entry: the agency's letters in order (label, body, attachment texts) and what the matrix must show per item:
(answer as written, value as text). Items left out of `expected` must stay "not answered".
"""

from __future__ import annotations

from dataclasses import dataclass, field

NA = "not available"


@dataclass(frozen=True)
class Letter:
    body: str
    label: str = "final_records"
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Agency:
    name: str
    letters: tuple[Letter, ...]
    expected: dict[str, tuple[str, str]] = field(default_factory=dict)


CORPUS: tuple[Agency, ...] = (
    Agency("American Canyon Police Department", (Letter(
        "Dear requester,\n\nOur answers follow.\n\n"
        "A1. California Department of Justice, Riverside County Sheriff\n"
        "A2. None\n"
        "A3. California Department of Justice\n"
        "A4. California Department of Justice; Napa County Sheriff's Office\n"
        "B1. 1,234\nB2. Seven\nB3. 2,001\nB4. Four\n\nSincerely,\nRecords Unit\n"),), {
        "A1": ("California Department of Justice, Riverside County Sheriff",
               "California Department of Justice; Riverside County Sheriff"),
        "A2": ("None", NA),
        "A3": ("California Department of Justice", "California Department of Justice"),
        "A4": ("California Department of Justice; Napa County Sheriff's Office",
               "California Department of Justice; Napa County Sheriff's Office"),
        "B1": ("1,234", "1234"), "B2": ("Seven", "7"), "B3": ("2,001", "2001"), "B4": ("Four", "4"),
    }),
    Agency("Auburn Police Department", (Letter(
        "Hello,\n\nA1) Placer County Sheriff's Office\nA2) Placer County Sheriff's Office\n"
        "A3) N/A\nA4) N/A\nB1) 45,210\nB2) 31\nB3) 50,002\nB4) 28\n\nRegards,\nClerk\n"),), {
        "A1": ("Placer County Sheriff's Office", "Placer County Sheriff's Office"),
        "A2": ("Placer County Sheriff's Office", "Placer County Sheriff's Office"),
        "A3": ("N/A", NA), "A4": ("N/A", NA),
        "B1": ("45,210", "45210"), "B2": ("31", "31"), "B3": ("50,002", "50002"), "B4": ("28", "28"),
    }),
    Agency("Bakersfield Police Department", (Letter(
        "Good afternoon,\n\nItem A1: Kern County Sheriff's Office and Bakersfield College Police Department\n"
        "Item A2: Kern County Sheriff's Office\nItem B2: twenty-three\nItem B4: one hundred five\n\nThank you.\n"),), {
        "A1": ("Kern County Sheriff's Office and Bakersfield College Police Department",
               "Kern County Sheriff's Office; Bakersfield College Police Department"),
        "A2": ("Kern County Sheriff's Office", "Kern County Sheriff's Office"),
        "B2": ("twenty-three", "23"), "B4": ("one hundred five", "105"),
    }),
    # The seed's style: each question repeated, the answer below it, the numbering lost ("1." throughout).
    Agency("Bell Gardens Police Department", (Letter(
        "Dear Sir,\n\nThe City answers your questionnaire as follows.\n\n"
        "1. A list of the agencies and organizations that receive ALPR data from the agency.\n\n"
        "Los Angeles County Sheriff's Department.\n\n"
        "1. A list of the agencies and organizations whose ALPR data the agency receives.\n\n"
        "The City does not receive ALPR data from other agencies.\n\n"
        "1. The total number of detections collected in 2019.\n\nNot Accessible.\n\n"
        "1. The total number of hits in 2019.\n\nNine.\n\n"
        "If you have any questions, please contact the City Clerk.\n"),), {
        "A1": ("Los Angeles County Sheriff's Department.", "Los Angeles County Sheriff's Department"),
        "A2": ("The City does not receive ALPR data from other agencies.", ""),
        "B1": ("Not Accessible.", NA), "B2": ("Nine.", "9"),
    }),
    Agency("Bell Police Department", (Letter(
        "Dear requester,\n\nIn response to question A1, the Department shares ALPR data with the Los Angeles Police "
        "Department and the California Highway Patrol. Regarding items B1 through B4, the Department does not track "
        "these figures.\n\nWith respect to item C1, the roster of authorized users is attached.\n\nSincerely,\nBell PD\n"),), {
        "A1": ("the Department shares ALPR data with the Los Angeles Police Department and the California Highway Patrol.",
               "Los Angeles Police Department; California Highway Patrol"),
        "B1": ("the Department does not track these figures.", NA),
        "B2": ("the Department does not track these figures.", NA),
        "B3": ("the Department does not track these figures.", NA),
        "B4": ("the Department does not track these figures.", NA),
        "C1": ("the roster of authorized users is attached.", ""),
    }),
    # A table in the PDF's text; the mail only says "see attached".
    Agency("Beverly Hills Police Department", (Letter(
        "Please see the attached response.\n\nThank you,\nCity Clerk\n", attachments=(
            "CITY OF BEVERLY HILLS — RESPONSE TO PUBLIC RECORDS REQUEST\n\n"
            "Item   Question                                  Response\n"
            "A1     Agencies receiving ALPR data              Culver City Police Department, Santa Monica Police Department\n"
            "A2     Agencies whose ALPR data we receive       Not Accessible\n"
            "A3     Agencies receiving hot list information   Seven agencies, see list\n"
            "B1     Detections 2019                           1,204,113\n"
            "B2     Hits 2019                                 Seven\n"
            "B3     Detections 2020                           998,310\n"
            "B4     Hits 2020                                 Five\n",
        )),), {
        "A1": ("Culver City Police Department, Santa Monica Police Department",
               "Culver City Police Department; Santa Monica Police Department"),
        "A2": ("Not Accessible", NA), "A3": ("Seven agencies, see list", ""),
        "B1": ("1,204,113", "1204113"), "B2": ("Seven", "7"), "B3": ("998,310", "998310"), "B4": ("Five", "5"),
    }),
    # A partial answer: the first four items only.
    Agency("Brentwood Police Department", (Letter(
        "Hi,\n\nA1. Contra Costa County Sheriff's Office\nA2. Contra Costa County Sheriff's Office\n"
        "A3. None\nA4. Northern California Regional Intelligence Center\n\n"
        "The remaining items will follow.\n", label="batch"),), {
        "A1": ("Contra Costa County Sheriff's Office", "Contra Costa County Sheriff's Office"),
        "A2": ("Contra Costa County Sheriff's Office", "Contra Costa County Sheriff's Office"),
        "A3": ("None", NA),
        "A4": ("Northern California Regional Intelligence Center", "Northern California Regional Intelligence Center"),
    }),
    # Has not answered at all: every cell "not answered".
    Agency("Buena Park Police Department", ()),
    # An installment, then the final letter with the rest (and a corrected A2).
    Agency("Carlsbad Police Department", (
        Letter("Dear requester,\n\nA1. San Diego County Sheriff's Department\nA2. Unknown\n\nMore to follow.\n", label="batch"),
        Letter("Dear requester,\n\nA2. San Diego Police Department\nB1. 2019: 1,234 detections\nB3. 987\n\nSincerely,\n"),
    ), {
        "A1": ("San Diego County Sheriff's Department", "San Diego County Sheriff's Department"),
        "A2": ("San Diego Police Department", "San Diego Police Department"),
        "B1": ("2019: 1,234 detections", "1234"), "B3": ("987", "987"),
    }),
    # Two years in one answer, given for two items in prose.
    Agency("Cathedral City Police Department", (Letter(
        "Good morning,\n\nAs to items B1 and B3: 2019: 12,345 detections; 2020: 9,876 detections.\n\n"
        "As to items B2 and B4: 2019: 14 hits; 2020: 11 hits.\n\nRegards,\n"),), {
        "B1": ("2019: 12,345 detections; 2020: 9,876 detections.", "2019: 12345; 2020: 9876"),
        "B3": ("2019: 12,345 detections; 2020: 9,876 detections.", "2019: 12345; 2020: 9876"),
        "B2": ("2019: 14 hits; 2020: 11 hits.", "2019: 14; 2020: 11"),
        "B4": ("2019: 14 hits; 2020: 11 hits.", "2019: 14; 2020: 11"),
    }),
    # A lettered sub-list under a numbered item belongs to that item.
    Agency("Citrus Heights Police Department", (Letter(
        "Hello,\n\nA1. The Department shares ALPR data with:\n  a. Sacramento County Sheriff's Office\n"
        "  b. Folsom Police Department\nA2. Not available\n\nThanks,\n"),), {
        "A1": ("The Department shares ALPR data with: a. Sacramento County Sheriff's Office b. Folsom Police Department",
               "Sacramento County Sheriff's Office; Folsom Police Department"),
        "A2": ("Not available", NA),
    }),
    # The answers are in an attached letter, numbered, not in the mail.
    Agency("Claremont Police Department", (Letter(
        "Attached is the City's response.\n", attachments=(
            "CITY OF CLAREMONT\n\nDear Requester:\n\nB1. 311,450\nB2. 212\nB3. 298,004\nB4. 190\n\n"
            "Sincerely,\nCity Clerk\n",
        )),), {
        "B1": ("311,450", "311450"), "B2": ("212", "212"), "B3": ("298,004", "298004"), "B4": ("190", "190"),
    }),
    Agency("Contra Costa County Sheriff's Office", (Letter(
        "Dear requester,\n\nA1. 1,234,567 detections were shared with Antioch Police Department.\n"
        "B1. Approximately 1,234,567 detections\nB2. 1,402 hits\n\nThank you,\n"),), {
        "A1": ("1,234,567 detections were shared with Antioch Police Department.", "Antioch Police Department"),
        "B1": ("Approximately 1,234,567 detections", "1234567"), "B2": ("1,402 hits", "1402"),
    }),
    # Their own numbering 1, 2, 3 ... in the letter's order, with no question restated.
    Agency("CSU Fullerton Police Department", (Letter(
        "Hello,\n\n1. Fullerton Police Department\n2. Fullerton Police Department\n3. None\n4. None\n\nBest,\n"),), {
        "A1": ("Fullerton Police Department", "Fullerton Police Department"),
        "A2": ("Fullerton Police Department", "Fullerton Police Department"),
        "A3": ("None", NA), "A4": ("None", NA),
    }),
    # Answers on top, our letter quoted below: the quoted questions are not answers.
    Agency("Cypress Police Department", (Letter(
        "A1 - Orange County Sheriff's Department\nA2 - Orange County Sheriff's Department\nB2 - 17\n\n"
        "On Tue, Feb 11, 2025 at 10:00 AM Records Requests <requests@example.org> wrote:\n"
        "> A1. A list of the agencies and organizations that receive ALPR data from the agency.\n"
        "> A2. A list of the agencies and organizations whose ALPR data the agency receives.\n"
        "> B1. The total number of detections collected in 2019.\n"),), {
        "A1": ("Orange County Sheriff's Department", "Orange County Sheriff's Department"),
        "A2": ("Orange County Sheriff's Department", "Orange County Sheriff's Department"),
        "B2": ("17", "17"),
    }),
    # A partial denial that still answers two items (the denied items are not read as answers: no lead-in names them).
    Agency("Emeryville Police Department", (Letter(
        "Dear requester,\n\nThe City denies items C1 through C3 under Gov. Code section 7923.600.\n\n"
        "A1. Oakland Police Department\nA3. Alameda County Sheriff's Office\n\nSincerely,\n", label="denial"),), {
        "A1": ("Oakland Police Department", "Oakland Police Department"),
        "A3": ("Alameda County Sheriff's Office", "Alameda County Sheriff's Office"),
    }),
    # Markers on their own lines, the answers in the paragraph below.
    Agency("Folsom Police Department", (Letter(
        "Dear requester,\n\nB1.\n\n88,120\n\nB2.\n\nEleven\n\nThank you.\n"),), {
        "B1": ("88,120", "88120"), "B2": ("Eleven", "11"),
    }),
    # An acknowledgment only: its numbered portal steps are no answers, and nothing final came.
    Agency("Fullerton Police Department", (Letter(
        "Your request has been received.\n\n1. Log in to the portal\n2. Open your request\n", label="acknowledgment"),), {}),
    Agency("Galt Police Department", (Letter(
        "Hello,\n\nQuestion A4: California Department of Justice\nQuestion B1: not tracked\n"
        "Question B2: not tracked\n\nRegards,\n"),), {
        "A4": ("California Department of Justice", "California Department of Justice"),
        "B1": ("not tracked", NA), "B2": ("not tracked", NA),
    }),
    # The question restated on the same line as the answer, after a colon.
    Agency("Garden Grove Police Department", (Letter(
        "Dear requester,\n\n"
        "A3. A list of the agencies and organizations that receive \"hot list\" information from the agency: "
        "Orange County Intelligence Assessment Center\n"
        "B4. The total number of hits in 2020: 44\n\nSincerely,\n"),), {
        "A3": ("Orange County Intelligence Assessment Center", "Orange County Intelligence Assessment Center"),
        "B4": ("44", "44"),
    }),
)

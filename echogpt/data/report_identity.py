"""Who and when a free-text report is about: the patient number and the study date from its first lines.

A patient's reports are split together (train/validation/test are split by patient), so a report whose
number is not read becomes a patient of its own and can leak into the test split beside its own earlier
study. Hospitals write the header in many ways: "MRN: 448812", "Hosp no. K123456", "NHS No 943 476
5919", "Name: J Doe | MRN 448812 | DOB 01/02/1950"; dates as "12/03/2026", "2 December 2026",
"Dec 1, 2026", "3rd December 2026", "29/11/2026 03:15", labelled or alone on a line.

    labelled_patient_id("Hosp no. K123456   Date: 27 Nov 2026")   # "K123456"
    labelled_date("Hosp no. K123456   Date: 27 Nov 2026")         # "27 Nov 2026"
    read_date("3rd December 2026")                                # date(2026, 12, 3)
"""

from __future__ import annotations

import re
from datetime import date, datetime

from echogpt.data.report_sections import heading_kind

HEADER_LINES = 15  # a header longer than this is findings
# month names of translated French, Italian, Spanish and German reports that English does not share
_FOREIGN_MONTHS = {"janvier": "january", "gennaio": "january", "enero": "january", "januar": "january",
                   "février": "february", "fevrier": "february", "febbraio": "february",
                   "febrero": "february",
                   "februar": "february", "mars": "march", "marzo": "march", "märz": "march",
                   "avril": "april", "aprile": "april", "abril": "april", "mai": "may", "maggio": "may",
                   "mayo": "may", "juin": "june", "giugno": "june", "junio": "june", "juni": "june",
                   "juillet": "july", "luglio": "july", "julio": "july", "juli": "july", "août": "august",
                   "aout": "august", "agosto": "august", "septembre": "september", "settembre": "september",
                   "septiembre": "september", "octobre": "october", "ottobre": "october",
                   "octubre": "october", "oktober": "october", "novembre": "november",
                   "noviembre": "november", "décembre": "december", "decembre": "december",
                   "dicembre": "december", "diciembre": "december", "dezember": "december"}

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|" + "|".join(_FOREIGN_MONTHS) + ")")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# one date as written: ISO, "2026/11/30", numeric with one separator, "2 December 2026", "29-Nov-2026",
# "Dec 1, 2026"
DATE = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{4}}([/.])\d{{1,2}}\1\d{{1,2}}|\d{{1,2}}([./-])\d{{1,2}}\2\d{{4}}|"
        rf"{_DAY}\s+{_MONTH}\.?,?\s+\d{{4}}|\d{{1,2}}-{_MONTH}-\d{{4}}|{_MONTH}\.?\s+{_DAY},?\s+\d{{4}})")
# the order a numeric date is written in, stated after it: "03/12/2026 (dd/mm/yyyy)"
_ORDER = re.compile(r"\s*\(\s*((?:dd|mm)[/.-](?:dd|mm)[/.-]yy(?:yy)?)\s*\)", re.IGNORECASE)
_DATE_RE = re.compile(rf"(?<![\w/.-]){DATE}(?![\w/-])", re.IGNORECASE)
# "Date", "Study date", "Exam date", "Encounter date", "Date of examination", "Date of service",
# "Date/Time", "Scanned", "Acquired", "Date of acquisition", "Datum (der Untersuchung)" (German), "Data
# (esame)" (Italian), "Fecha (de exploración)" (Spanish), "Study:" before the date
_DATE_LABEL = re.compile(r"\b(?:(?:study|exam(?:ination)?|echo|scan|acquisition)\s+date|"
                         r"date(?:\s+of\s+(?:the\s+)?"
                         r"(?:study|exam(?:ination)?|echo|scan|service|test|acquisition))?|date\s*/\s*time|"
                         r"scanned|acquired|datum(?:\s+der\s+untersuchung)?|data(?:\s+(?:esame|dell'esame))?|"
                         r"fecha(?:\s+de\s+(?:exploraci[oó]n|estudio|examen))?|study|exam(?:ination)?|dos)"
                         r"\s*[:.]?\s*$", re.IGNORECASE)
# a date on a line with one of these words is not today's study
_OTHER_DATE = re.compile(r"\b(?:dob|d\.o\.b|birth|born|previous|prior|last|baseline|pre-?op\w*|"
                         r"referr\w*|admi\w+|surgery|implant\w*|transplant\w*|since|compar\w+|index)\b",
                         re.IGNORECASE)
# "MRN", "MR no.", "Medical record number", "Hospital number", "Hosp no.", "NHS No", "Patient ID",
# "Pt ID", "URN", "UR no", "CR No.", "Health Card No.", "CHI", "Unit no.", "Reg. no", "ED No", "Acct #",
# "Pat.-Nr." (German), "ID" before the number; "pt" only before a number of four digits or more
_ID_LABEL = re.compile(r"(?<![\w])(?:mrn|mr\s*no\.?|medical\s+record\s+(?:number|no\.?)|hospital\s+"
                       r"(?:number|no\.?)|hosp\.?\s*no\.?|nhs\s+(?:number|no\.?)|patient\s+(?:id|number|no\.?)|"
                       r"unit\s+(?:number|no\.?)|reg(?:\.|istration)?\s*(?:number|no\.?)|ed\s+no\.?|"
                       r"acct\.?\s*(?:#|no\.?)|pat\.?-?\s*(?:nr|id)\.?|pt\.?(?=\s+\d[\d-]{2,}\d(?![\w/]))|"
                       r"pt\.?\s+id|urn|ur(?:\s*no\.?)?|cr\s*no\.?|health\s+card\s+(?:number|no\.?)|chi|"
                       r"medical\s+record\s+#|empi|pat\.?\s*n\.?|id\s+atleta|codice|n\.?\s*cartella|"
                       r"(?:athlete|patient)\s+(?:id|code)|player\s+ref|"
                       # a trial's subject; translated labels: NHC, N.º historia (Spanish), IPP,
                       # N° de dossier, N° patient (French), ID paziente, Cartella n. (Italian)
                       r"subject(?:\s+(?:id|no\.?|number))?|subj\.?|participant(?:\s+id)?|patient\s+identifier|"
                       r"nhc|ipp|n\.?\s*[º°o]?\s*(?:de\s+)?historia|n\s*[º°]\s*(?:de\s+)?dossier|n\s*[º°]\s*patient|"
                       r"id\s+paziente|cartella\s+n\.?|"
                       r"(?<!study\s)(?<!exam\s)(?<!accession\s)id)"
                       # an English gloss in brackets: "NHC (clinical history number): 20-558341"
                       r"(?:\s*\([^()]{1,40}\))?\s*(?:[:#]\s*|\s+)", re.IGNORECASE)
# the number itself: letters and digits with -_/, or digit groups split by single spaces (NHS style)
_ID = re.compile(r"(?:[A-Za-z]{1,4}\s)?\d{2,}(?:\s\d+)*(?![\w/-]|\.\d)"
                 r"|[A-Za-z0-9](?:[A-Za-z0-9_/-]|\.(?=[A-Za-z0-9])){0,63}")  # "61.228.904"


def _head(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:HEADER_LINES]


def _segments(line: str) -> list[tuple[str, str]]:
    """Each date of a header line with the text before it back to the previous field ("|", a tab,
    two spaces or the previous date); a stated order stays with its date ("03/12/2026 (dd/mm/yyyy)")."""
    out, start = [], 0
    for m in _DATE_RE.finditer(line):
        before = re.split(r"\s{2,}|\t|\|", line[start:m.start()])[-1]
        order = _ORDER.match(line, m.end())
        out.append((before, f"{m.group(0)} ({order.group(1)})" if order else m.group(0)))
        start = m.end()
    return out


def _about_the_patient(line: str) -> bool:
    """A line under an indication or history label ("Indication: ...", "Hx: ...")."""
    found = heading_kind(line)
    return found is not None and found[0] in ("indication", "history")


def labelled_date(text: str) -> str | None:
    """The study date in the report's first lines, as written; None if none is clear.

    A date after a date label wins. Else a date with no label is taken when it is the only one in
    the header; a date about birth, an earlier study, admission or surgery, or on an indication or
    history line, is never taken.
    """
    alone: set[str] = set()
    for line in _head(text):
        if _about_the_patient(line):
            continue  # "Indication: NSTEMI 11/28/2026": the date of an event, not of the study
        for before, found in _segments(line):
            if _OTHER_DATE.search(before):
                continue
            if _DATE_LABEL.search(before):
                return found
            if not re.search(r"\w\s*:\s*$", before):  # after some other field's label: not clear
                alone.add(found)
    return alone.pop() if len(alone) == 1 else None


def labelled_patient_id(text: str) -> str | None:
    """The patient's number after an identifier label in the report's first lines; None if none.

    Digit groups split by single spaces ("943 476 5919") and a short letter prefix ("TR 30442") are
    one number, kept without the spaces. A value with no digit ("MRN: John Smith") is no number.
    """
    for line in _head(text):
        for label in _ID_LABEL.finditer(line):
            m = _ID.match(line, label.end())
            if m and re.search(r"\d", m.group(0)):
                return re.sub(r"\s", "", m.group(0))
    return None


def read_date(raw: str) -> date:
    """A date as written in a report, or ValueError when it cannot be read without guessing.

    Ordinals ("3rd"), a weekday before it and a time after it are allowed. Dotted dates are
    day.month.year; a slashed or dashed one is read in the order stated after it ("03/12/2026
    (dd/mm/yyyy)"), else only when day and month cannot be swapped.
    """
    text = re.sub(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", "", raw.strip(), flags=re.IGNORECASE)
    time_of_day = r"[,\s]+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?$"
    text = re.sub(time_of_day, "", text, flags=re.IGNORECASE)
    text = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE).replace(".,", ",")
    text = re.sub(r"(?<=[A-Za-z])\.(?=\s)", "", text)  # "Dec. 1, 2026"
    text = re.sub(r"[^\W\d_]+", lambda m: _FOREIGN_MONTHS.get(m.group(0).lower(), m.group(0)), text)
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y",
                "%d %B, %Y", "%d %b, %Y", "%d-%b-%Y", "%d-%B-%Y", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    m = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:\s*\(\s*(dd|mm)\W+(?:dd|mm)\W+y+\s*\))?", text,
                     re.IGNORECASE)
    if m:
        a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        if m.group(5):  # the order stated: "03/12/2026 (dd/mm/yyyy)", "12/01/2026 (MM/DD/YYYY)"
            return date(year, b, a) if m.group(5).lower() == "dd" else date(year, a, b)
        if sep == ".":  # dotted dates are day.month.year by European convention
            return date(year, b, a)
        if a == b or (a > 12) != (b > 12):  # only when day and month are clear
            day, month = sorted((a, b), reverse=True)
            return date(year, month, day)
    raise ValueError(f"study date '{raw}' is not a date EchoGPT can read without guessing "
                     "(use YYYY-MM-DD)")

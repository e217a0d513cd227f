"""Numbers, units, letters and punctuation as a speech-recognition engine writes them in an unedited
dictation ("three point six meters per second", "one twenty milliseconds", "L V I D D", "period"),
written as a report writes them ("3.6 m/s", "120 ms", "LVIDD", ".") so that the rest of the import
reads the values and the sentences.

Only a dictation is rewritten: a text with spoken punctuation ("period", "full stop", "comma"). A number
said in a form that has no single reading ("two two") is left as said.

    text = written_numbers("peak velocity three point six meters per second period")
    # "Peak velocity 3.6 m/s."
"""

from __future__ import annotations

import re

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_VALUE = {w: n for n, w in enumerate(_ONES)} | {w: 20 + 10 * n for n, w in enumerate(_TENS)} | {"oh": 0}
_WORD = r"(?:" + "|".join(sorted(_VALUE, key=len, reverse=True)) + r"|hundred)"
# a run of number words: "sixty five", "one hundred and three", "two point two", "point four five"
# (not the tens of an ordinal: "twenty sixth of November" is a date, left as said)
_PHRASE = re.compile(rf"(?<![\w.-])(?:point[\s-]+)?{_WORD}(?:[\s-]+(?:and[\s-]+)?(?:point[\s-]+)?{_WORD})*"
                     r"(?![\w-])(?![\s-]+(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b)",
                     re.IGNORECASE)
# spoken units after a number, longest first: "millimeters of mercury" -> "mmHg"
_UNITS = [(r"square centimet(?:er|re)s? per met(?:er|re) squared", "cm2/m2"),
          (r"millilit(?:er|re)s? per met(?:er|re) squared", "mL/m2"),
          (r"grams? per met(?:er|re) squared", "g/m2"),
          (r"millimet(?:er|re)s? of mercury", "mmHg"),
          (r"centimet(?:er|re)s? per second", "cm/s"),
          (r"met(?:er|re)s? per second", "m/s"),
          (r"square centimet(?:er|re)s?", "cm2"),
          (r"met(?:er|re)s? squared", "m2"),
          (r"beats per minute", "bpm"),
          (r"millisec(?:ond)?s?", "ms"),
          (r"millilit(?:er|re)s?", "mL"),
          (r"millimet(?:er|re)s?", "mm"),
          (r"centimet(?:er|re)s?", "cm"),
          (r"grams?", "g"),
          (r"percent|per cent", "%")]
_UNIT = re.compile(r"(?<=\d)\s+(?:" + "|".join(f"(?P<u{i}>{p})" for i, (p, _) in enumerate(_UNITS)) + r")\b",
                   re.IGNORECASE)
_SPOKEN_STOP = re.compile(r"\s(?:period|full stop|comma)(?=\s|$)", re.IGNORECASE)
# letters said one by one: "L V I D D", "R V S P" (two or more capitals, each alone)
_LETTERS = re.compile(r"\b[A-Z](?: [A-Z]\b)+")


# a list number said at a line's start: "1 severe MR", "two period mild MR" (by now "2 period")
_SAID_NUMBER = re.compile(r"^(\d{1,2})(?:\s+(?:period|full stop))?\s+(?=\S)", re.IGNORECASE)


def _list_numbers(text: str) -> str:
    """Lines numbered 1, 2, 3 ... as said ("1 severe MR", "2 period normal LV") numbered as written
    ("1. severe MR"), so that each is a list item; a number that does not continue a count is a value."""
    lines = text.split("\n")
    runs: list[list[int]] = []
    for i, line in enumerate(lines):
        m = _SAID_NUMBER.match(line)
        if m and int(m.group(1)) == 1:
            runs.append([i])
        elif m and runs and runs[-1][-1] == i - 1 and int(m.group(1)) == len(runs[-1]) + 1:
            runs[-1].append(i)
    for run in (r for r in runs if len(r) >= 2):
        for n, i in enumerate(run, start=1):
            lines[i] = _SAID_NUMBER.sub(f"{n}. ", lines[i], count=1)
    return "\n".join(lines)


# punctuation said as words, written as marks: "period", "full stop", "comma", "colon"
_SAID_MARKS = [(re.compile(r"\s+(?:period|full stop)(?=\s|$)", re.IGNORECASE), "."),
               (re.compile(r"\s+comma(?=\s|$)", re.IGNORECASE), ","),
               (re.compile(r"\s+colon(?=\s|$)", re.IGNORECASE), ":")]
_NEW_PARAGRAPH = re.compile(r"(?:^|(?<=\s))new paragraph\s+", re.IGNORECASE | re.MULTILINE)
# "mild aortic regurgitation scratch that trace aortic regurgitation": the dictating reader withdrew
# what they said since the last mark
_SCRATCH = re.compile(r"(?:(?<=[.,:;])|^)[^.,:;\n]*?\bscratch that\b[.,]?\s*", re.IGNORECASE | re.MULTILINE)
# a sentence's first letter, written in capitals: after a sentence end or at a line's start
_SENTENCE_START = re.compile(r"(?:(?<=[.!?]\s)|^)([a-z])", re.MULTILINE)


def _written_marks(text: str) -> str:
    """Spoken punctuation as marks, "new paragraph" dropped, a withdrawn phrase ("... scratch that")
    taken out and each sentence begun with a capital; line numbers do not change."""
    text = _NEW_PARAGRAPH.sub("", text)
    for said, mark in _SAID_MARKS:
        text = said.sub(mark, text)
    text = _SCRATCH.sub(lambda m: " " if m.start() and text[m.start() - 1] != "\n" else "", text)
    return _SENTENCE_START.sub(lambda m: m.group(1).upper(), text)


def is_dictation(text: str) -> bool:
    """Whether the text is an unedited dictation: punctuation said as words three times or more."""
    return len(_SPOKEN_STOP.findall(text)) >= 3


def _whole(words: list[str]) -> int | None:
    """The whole number of a run of number words: "sixty five" 65, "one hundred and ten" 110, "one
    twenty five" 125 (said in pairs); None when it has no single reading ("two two")."""
    if "hundred" in words:
        at = words.index("hundred")
        before, after = _whole(words[:at]) if at else 1, _whole(words[at + 1:]) if words[at + 1:] else 0
        return None if before is None or after is None or before > 9 or after > 99 else 100 * before + after
    groups: list[int] = []
    for word in words:
        n = _VALUE[word]
        if groups and groups[-1] >= 20 and groups[-1] % 10 == 0 and 0 < n < 10:
            groups[-1] += n  # "twenty" "two" -> 22
        else:
            groups.append(n)
    if len(groups) == 1:
        return groups[0]
    if len(groups) == 2 and 0 < groups[0] < 10 and groups[1] >= 10:
        return 100 * groups[0] + groups[1]  # "one eighty three" -> 183
    return None


def _number(phrase: str) -> str | None:
    """The digits of one spoken number ("two point two" -> "2.2", "point four five" -> "0.45")."""
    words = [w for w in re.split(r"[\s-]+", phrase.lower()) if w != "and"]
    if words.count("point") > 1:
        return None
    whole, _, decimals = " ".join(words).partition("point")
    digits = [_VALUE.get(w) for w in decimals.split()]
    if any(d is None or d > 9 for d in digits) or (decimals.strip() == "") != ("point" not in words):
        return None
    number = _whole(whole.split()) if whole.strip() else 0
    if number is None:
        return None
    return f"{number}.{''.join(map(str, digits))}" if digits else str(number)


def written_numbers(text: str) -> str:
    """A dictation with its spoken numbers as digits, its spoken units as symbols after a number, its
    spelled-out letters joined, its said list numbers written ("1 period" -> "1. ") and its said
    punctuation as marks; any other text unchanged."""
    if not is_dictation(text):
        return text
    text = _LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    text = _list_numbers(_PHRASE.sub(lambda m: _number(m.group()) or m.group(), text))
    text = _UNIT.sub(lambda m: " " + next(_UNITS[int(k[1:])][1] for k, v in m.groupdict().items() if v), text)
    return _written_marks(text)

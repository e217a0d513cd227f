"""Facts of each sentence, memoised by the sentence with its digits masked.

Reports repeat sentences ("There is no pericardial effusion.") and, more often still, sentences that
differ only in their numbers ("LVEF 55 %." and "LVEF 60 %."). Tokens and their binding do not depend
on which digits a sentence holds as long as no rule can tell one digit from another, so a sentence is
worked out once per digit-masked text; only its numbers are read again. Sentences where a rule does
name a digit ("2+ MR", "grade 1 diastolic dysfunction") are memoised by their exact text.

A sentence that never looks at the previous sentence's subject (most do not) is memoised by its text
alone, the others by text and that subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from echogpt.checker.rules import REGEX_CATEGORIES, first_chars, first_pairs, lexicon
from echogpt.checker.tokens import Plan, lesion_sizes, numbers
from echogpt.schemas import Fact

Carry = tuple[tuple[str, str | None], ...]

_MASK_DIGIT = "0"
_ASCII_DIGITS = range(ord("0"), ord("9") + 1)
# Characters after which the mask leaves digits alone: ASCII letters (and the other characters that
# match them ignoring case) and "^" ("cm^2"). A rule naming a digit after one of them ("cm2", "g1")
# then reads the digit the sentence has.
_HIDING = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ^\u0130\u0131\u017f\u212a")
_RUN = re.compile(r"(?<![A-Za-z^\u0130\u0131\u017f\u212a0-9])[0-9]+")
_ANY_DIGIT = re.compile(r"[0-9]")
_HIDDEN_RUN = re.compile(r"[A-Za-z^\u0130\u0131\u017f\u212a][0-9]")  # a digit the mask leaves alone
_ALL_DIGITS = bytes.maketrans(b"123456789", b"000000000")
# Whether each regex category (\\d, \\w, \\s and their complements) holds the digits (all of them, or none).
_CATEGORY_HAS_DIGITS = {name: bool(rx.match("5")) for name, rx in REGEX_CATEGORIES.items()}


def mask(sentence: str) -> str:
    """The sentence with the digits of each number made "0" ("LVEF 55 %" -> "LVEF 00 %"); digits right
    after a letter stay ("cm2", "RVD1"). Spans stay where they are."""
    return _RUN.sub(_zeros, sentence)


def _zeros(m: re.Match[str]) -> str:
    return _MASK_DIGIT * (m.end() - m.start())


class Parts(NamedTuple):
    """One sentence worked out, with spans relative to it."""

    facts: tuple[Fact, ...]  # every fact but those of its numbers, in ``span_order``
    plan: Plan  # where its measurement numbers are (``fact_tokens.number_plan``)
    nums: tuple[tuple[int, int], ...]  # spans of its numbers, where a lesion may take one as its size
    after: Carry | None  # the subject it hands to the next sentence (None: the one it got)
    read: bool  # whether it looked at the previous sentence's subject
    shared: bool  # whether sentences with other digits may use it (False: its own digits matter)


class DigitUse(NamedTuple):
    """How a regex treats the digits the mask changes."""

    digits: frozenset[str]  # the digits it names where a masked digit can stand
    opaque: bool  # it names the mask digit there, or holds a back-reference: masking cannot be trusted


def digit_use(source: str, flags: int = re.IGNORECASE) -> DigitUse:
    """The digits a regex can tell apart where the mask changes digits.

    A digit the regex names right after a letter ("cm2", "rvd1") or after such a digit stands where the
    mask never changes a digit (``mask``); any other digit it names (a literal, or a range that cuts
    through 0-9) counts. A regex that names none matches a text and its masked copy alike.
    """
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    digits = set(_ASCII_DIGITS)
    named: set[int] = set()
    opaque = False

    def after_hiding(prev: object) -> bool:  # the element before hides a digit after it from the mask
        return prev in ("letter", "digit")

    def walk(seq: object) -> None:
        nonlocal opaque
        prev: str | None = None
        for op, av in seq:  # type: ignore[attr-defined]
            now: str | None = None
            if op in (c.LITERAL, c.NOT_LITERAL):
                if av in digits:
                    if after_hiding(prev) and op is c.LITERAL:
                        now = "digit"
                    else:
                        named.add(av)
                elif op is c.LITERAL and chr(av) in _HIDING:
                    now = "letter"
            elif op is c.IN:
                in_class: set[int] = set()  # the digits the class holds
                letters = True  # the class is letters (and "^") alone
                for iop, iav in av:
                    if iop is c.LITERAL:
                        in_class |= {iav} & digits
                        letters = letters and chr(iav) in _HIDING
                    elif iop is c.RANGE:
                        in_class |= set(range(max(iav[0], 48), min(iav[1], 57) + 1))
                        letters = False
                    elif iop is c.CATEGORY and str(iav) in _CATEGORY_HAS_DIGITS:
                        in_class |= digits if _CATEGORY_HAS_DIGITS[str(iav)] else set()  # all or none
                        letters = False
                    elif iop is c.NEGATE:  # the complement of a partial set of digits is partial too
                        letters = False
                    else:
                        opaque = True
                if in_class and in_class != digits and not after_hiding(prev):
                    named.update(in_class)
                now = "letter" if letters else None
            elif op is c.SUBPATTERN:
                walk(av[3])
            elif op is c.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                walk(av[2])
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(av[1])
            elif op is c.ATOMIC_GROUP:
                walk(av)
            elif op not in (c.AT, c.ANY):
                opaque = True  # a back-reference, or anything not looked into
            prev = now

    walk(_parser.parse(source, flags))
    found = frozenset(chr(d) for d in named)
    return DigitUse(found, opaque or _MASK_DIGIT in found)


class _Masking(NamedTuple):
    on: bool
    named: re.Pattern[str] | None  # a digit some rule names
    rules: re.Pattern[str] | None  # where a rule that names a digit matches


@cache
def _masking(binding: tuple[str, ...]) -> _Masking:
    uses = [(p, digit_use(p)) for p in lexicon().parts]
    if any(u.opaque for _, u in uses) or any(u.digits or u.opaque for u in map(digit_use, binding)):
        return _Masking(False, None, None)
    naming = [p for p, u in uses if u.digits]
    if not naming:
        return _Masking(True, None, None)
    digits = "".join(sorted(set().union(*(u.digits for _, u in uses))))
    return _Masking(True, re.compile(f"[{digits}]"), re.compile(
        rf"(?<![A-Za-z0-9]){_starts(naming)}(?:{'|'.join(naming)})", re.IGNORECASE))


def _starts(patterns: list[str]) -> str:
    """A lookahead for the first two characters the patterns can start with ("" when unknowable):
    rules start at a word start (the scan's rule) and only with one of them."""
    starts: set[str] = set()
    for p in patterns:
        pairs = first_pairs(p)
        if pairs is None or "" in pairs:
            firsts = first_chars(p)
            if "*" in firsts:
                return ""
            starts |= firsts
        else:
            starts |= pairs
    return "(?=" + "|".join(re.escape(x) for x in sorted(starts, key=len, reverse=True)) + ")"


class SentenceCache:
    """Sentence -> (facts, subject for the next sentence), given the previous sentence's subject.

    Two levels: the finished facts by exact text, and on a miss the worked-out parts by masked text.
    """

    def __init__(self, work: Callable[[str, Carry], Parts], binding: Callable[[], tuple[str, ...]],
                 maxsize: int = 65536) -> None:
        """``work`` works a sentence out; ``binding`` gives the regex sources it reads the text with
        besides the rules (masking stays off unless they name no digit)."""
        self.work = work
        self.binding = binding
        self.maxsize = maxsize
        # None: the entry depends on the carry, look in the bound table
        self.free: dict[str, tuple[tuple[Fact, ...], Carry | None] | None] = {}
        self.bound: dict[tuple[str, Carry], tuple[tuple[Fact, ...], Carry]] = {}
        self.masked_free: dict[str, Parts | None] = {}
        self.masked_bound: dict[tuple[str, Carry], Parts] = {}
        self._masking: _Masking | None = None

    def cache_clear(self) -> None:
        for table in (self.free, self.bound, self.masked_free, self.masked_bound):
            table.clear()

    def key_of(self, sentence: str) -> str | None:
        """The masked text (``mask``) sentences share; None when the sentence has no number or its own
        digits matter ("2+ MR")."""
        if _ANY_DIGIT.search(sentence) is None:
            return None
        m = self._masking
        if m is None:
            m = self._masking = _masking(self.binding())
        if not m.on:
            return None
        if _HIDDEN_RUN.search(sentence):
            masked = mask(sentence)
        else:  # every digit masked: on UTF-8 bytes (no other character has a digit's byte)
            masked = sentence.encode().translate(_ALL_DIGITS).decode()
        if m.named is not None and m.named.search(sentence) and m.rules.search(sentence):  # type: ignore[union-attr]
            # a rule naming a digit matches: the sentence is its own if a masked digit is one it names
            if any(m.named.search(sentence, r.start(), r.end()) for r in _RUN.finditer(sentence)):
                return None
        return masked

    def __call__(self, sentence: str, carry: Carry) -> tuple[tuple[Fact, ...], Carry]:
        hit = self.free.get(sentence, _MISSING)
        if hit is None:
            done = self.bound.get((sentence, carry))
            if done is not None:
                return done
        elif hit is not _MISSING:
            return hit[0], carry if hit[1] is None else hit[1]  # type: ignore[index]
        if len(self.free) >= self.maxsize or len(self.bound) >= self.maxsize or len(
                self.masked_free) >= self.maxsize or len(self.masked_bound) >= self.maxsize:
            self.cache_clear()
        key = self.key_of(sentence)
        parts = None
        if key is not None:
            parts = self.masked_free.get(key, _MISSING)  # type: ignore[assignment]
            if parts is None:
                parts = self.masked_bound.get((key, carry))
            elif parts is _MISSING:
                parts = None
        if parts is None:
            parts = self.work(sentence, carry)
            if key is not None and parts.shared:
                if parts.read:
                    self.masked_free[key] = None
                    self.masked_bound[key, carry] = parts
                else:
                    self.masked_free[key] = parts
        facts = _finish(sentence, parts)
        after = carry if parts.after is None else parts.after
        if parts.read:
            self.free[sentence] = None
            self.bound[sentence, carry] = facts, after
        else:
            self.free[sentence] = facts, parts.after
        return facts, after


def _finish(sentence: str, parts: Parts) -> tuple[Fact, ...]:
    """The sentence's facts: the shared ones, then its own numbers (and lesion sizes)."""
    if not parts.plan and not parts.nums:
        return parts.facts
    out = list(parts.facts)
    numbers(sentence, parts.plan, out)
    if parts.nums:
        out = lesion_sizes(sentence, list(parts.nums), out)
    out.sort(key=span_order)
    return tuple(out)


def span_order(f: Fact) -> tuple[int, str]:
    """Facts in text order: by start, then concept (sorts are stable: the rest keeps its order)."""
    return f.start or 0, f.concept


_MISSING = object()

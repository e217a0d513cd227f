"""Sentences that differ only in their numbers share one worked-out entry; the facts stay their own."""

from __future__ import annotations

import random
import re

import pytest

from echogpt.checker import facts
from echogpt.checker.sentence_cache import SentenceCache, digit_use, mask


def _fresh() -> SentenceCache:
    return SentenceCache(facts._parts, facts._binding_patterns)


def _alone(sentence: str) -> list[dict]:
    """The sentence's facts from a cache that has seen nothing else."""
    return [f.model_dump() for f in _fresh()(sentence, ())[0]]


@pytest.mark.parametrize(("pattern", "digits", "opaque"), [
    (r"cm2", "", False),  # after a letter: the mask leaves that digit alone
    (r"rvd1", "", False),
    (r"cm\^2", "", False),
    (r"1[+]", "1", False),
    (r"grade (?:i|1|one)", "1", False),
    (r"[0-9]+", "", False),
    (r"\d+(?:\.\d+)?", "", False),
    (r"[1-5]", "12345", False),
    (r"[^2]", "2", False),
    (r"[a-z]1", "1", False),  # a class before the digit is not known to be a letter
    (r"[\s1]", "1", False),  # a category that holds no digit, with one digit beside it
    (r"[\D1]", "1", False),
    (r"[\w-]", "", False),  # a category that holds every digit
    (r"x 0", "0", True),  # names the mask digit
    (r"(\d)\1", "", True),  # a back-reference
])
def test_digit_use(pattern: str, digits: str, opaque: bool) -> None:
    use = digit_use(pattern)
    assert "".join(sorted(use.digits)) == digits and use.opaque is opaque


def test_mask_keeps_spans_and_the_digits_of_units() -> None:
    text = "LVEF 55-60 %, AVA 0.9 cm2, RVD1 3.9 cm, 12x4 mm."
    assert mask(text) == "LVEF 00-00 %, AVA 0.0 cm2, RVD1 0.0 cm, 00x4 mm."
    assert len(mask(text)) == len(text)


def test_sentences_differing_in_numbers_are_worked_out_once() -> None:
    cache = _fresh()
    calls = []
    cache.work = lambda s, c: calls.append(s) or facts._parts(s, c)  # type: ignore[method-assign]
    one = cache("LVEF 55 %, LVIDd 4.8 cm, mild MR.", ())[0]
    two = cache("LVEF 35 %, LVIDd 6.1 cm, mild MR.", ())[0]
    assert len(calls) == 1 and len(cache.masked_free) == 1
    values = [(f.location, f.value) for f in two if f.concept == "measurement"]
    assert values == [("lvef", 35.0), ("lvidd", 6.1)]
    assert [f.model_dump() for f in one] == _alone("LVEF 55 %, LVIDd 4.8 cm, mild MR.")
    assert [f.model_dump() for f in two] == _alone("LVEF 35 %, LVIDd 6.1 cm, mild MR.")


def test_a_rule_naming_a_digit_keeps_the_sentence_its_own() -> None:
    cache = _fresh()
    assert cache.key_of("2+ MR.") is None and cache.key_of("Grade 1 diastolic dysfunction.") is None
    grades = [next(f.grade for f in cache(s, ())[0] if f.concept == "valve_regurgitation")
              for s in ("2+ MR.", "3+ MR.", "4+ MR.")]
    assert grades == ["moderate", "moderate_severe", "severe"]
    assert cache.key_of("LVEF 35 %.") == "LVEF 00 %."  # a digit a rule names, but no such rule here


def test_lesion_sizes_are_each_sentences_own() -> None:
    cache = _fresh()
    first = cache("Vegetation measuring 0.6 x 0.8 cm on the mitral valve.", ())[0]
    second = cache("Vegetation measuring 1.1 x 1.4 cm on the mitral valve.", ())[0]
    size = [(f.value, f.value_max) for f in (*first, *second) if f.concept == "vegetation"]
    assert size == [(0.6, 0.8), (1.1, 1.4)]  # the first, shared with the second, is not changed


def test_shared_entries_give_what_each_sentence_gives_alone() -> None:
    from echogpt.checker.rules import lexicon
    from echogpt.synth.corpus import generate_corpus

    rng = random.Random(5)
    texts = [s.findings_text + "\n" + (s.impression or "") for s in generate_corpus(60, seed=9)]
    sentences = [p.strip() for t in texts for p in _split(lexicon().sentence_end, t) if p.strip()]
    sentences += ["1+ MR and 2+ TR.", "Grade 2 diastolic dysfunction, E/A 0.8.", "RVD1 3.9 cm.",
                  "Mobile 12 mm apical thrombus.", "AVA 0.9 cm2, mean gradient 41 mmHg.", "1-2+ AR."]
    variants = [re.sub(r"\d", lambda m: rng.choice("0123456789"), s) for s in sentences for _ in range(3)]
    cache = _fresh()
    shared = 0
    for s in sentences + variants:
        shared += cache.key_of(s) is not None
        assert [f.model_dump() for f in cache(s, ())[0]] == _alone(s), s
    numbered = sum(bool(re.search(r"\d", s)) for s in sentences + variants)
    assert shared > 0.8 * numbered  # most sentences with numbers went through a shared entry


def _split(end: re.Pattern[str], text: str) -> list[str]:
    out, start = [], 0
    for m in end.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    return [*out, text[start:]]

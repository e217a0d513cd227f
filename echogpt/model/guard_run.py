"""The guard's statement-by-statement loop over one draft (used by ``echogpt.model.guard``): the
model writes on from the kept tokens; each finished statement is checked (a number the study does not
back fails it); a failing one is repaired, rewritten from the same prefix (keeping its subject),
replaced by the template's sentence about its subject or dropped; omitted critical findings are
added at the end.

    run = GuardRun(generator, study, token_source(generator), GuardConfig(), shots=None)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.checker.check import check_statement
from echogpt.checker.repair import (
    PASSING,
    Subject,
    missing_findings,
    repair_statement,
    same_subject,
    statement_subjects,
    template_sentence_about,
    unbacked_numbers,
)
from echogpt.checker.study_facts import study_facts
from echogpt.model.decoding import TokenSource
from echogpt.model.prompts import build_messages
from echogpt.schemas import GuardIntervention, StatementCheck, Study
from echogpt.text import Statement, split_statements

NUMBERED = re.compile(r"\s*(\d{1,2})[.)]\s")
_BULLET = re.compile(r"\s*([-*•])\s")
_ONLY_MARKER = re.compile(r"\s*(?:\(?\d{1,2}[.)]|[-*•])?\s*")
_RANK = {"supported": 0, "not_checked": 1, "not_factual": 2}
_WORDS = re.compile(r"[a-z0-9]+")


def _words(subject: Subject) -> str:
    """A subject in words ("rv size", "valve regurgitation (mitral)")."""
    concept, location = subject
    return concept.replace("_", " ") + (f" ({location.replace('_', ' ')})" if location else "")


def _same_words(text: str) -> tuple[str, ...]:
    """A statement's words, lower-cased, without its number or punctuation (to see a repetition)."""
    return tuple(_WORDS.findall(_ONLY_MARKER.sub("", text, count=1).lower()))


class GuardConfig(BaseModel):
    """How the guard intervenes."""

    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(
        3,
        ge=1,
        le=16,
        description="Rewrites tried for a failing statement: the "
        "first greedy (failed first token banned), the rest sampled",
    )
    repair: bool = Field(True, description="Repair a one-value or one-grade contradiction before rewriting")
    statement_tokens: int = Field(80, ge=8, description="Token bound of one rewritten or added statement")
    add_severities: tuple[str, ...] = Field(
        ("critical", "high"), description="Omitted findings of these severities are added"
    )
    max_drops: int = Field(2, ge=1, description="Statements dropped at one place before the draft ends there")
    seed: int = Field(0, description="Seed of the sampled candidates")


def _finished(text: str, after: int, final: bool) -> list[Statement]:
    """Statements from offset ``after`` that are complete: a later one began or their line ended."""
    found = [s for s in split_statements(text) if s.start >= after]
    if final:
        return found
    return [s for i, s in enumerate(found) if i + 1 < len(found) or "\n" in text[s.end :]]


class GuardRun:
    """One guarded draft in progress: the prompt, the kept tokens, what was changed."""

    def __init__(
        self, gen: Any, study: Study, source: TokenSource, config: GuardConfig, shots: list[Study] | None
    ) -> None:
        self.tok, self.study, self.source, self.config = gen.bundle.tokenizer, study, source, config
        self.prompt: list[int] = gen._prompt_ids(build_messages(study, gen.prompt, shots=shots))
        self.sf = study_facts(study)
        self.limit, self.sample = gen.max_new_tokens, gen.do_sample
        self.ids: list[int] = []
        self.checked = 0  # statements before this offset have passed (or were changed)
        self.interventions: list[GuardIntervention] = []
        self.drops: dict[int, int] = {}
        self.decoded, self.stopped, self.seeds = 0, False, config.seed

    def text(self, ids: list[int] | None = None) -> str:
        return self.tok.decode(self.ids if ids is None else ids, skip_special_tokens=True)

    def set_text(self, text: str) -> None:
        """Make the kept tokens spell ``text``: the longest run of them that does, then the rest."""
        n = len(self.ids)
        while n and not text.startswith(self.text(self.ids[:n])):
            n -= 1
        head = self.ids[:n]
        rest = text[len(self.text(head)) :]
        self.ids = head + (self.tok(rest, add_special_tokens=False)["input_ids"] if rest else [])

    def _seed(self) -> int:
        self.seeds += 1
        return self.seeds

    def _verdict(self, s: Statement, offset: int = 0) -> StatementCheck:
        """The checker's verdict on a statement the model wrote, except that it fails as unsupported
        when it says again what the draft has already said (a repetition adds no support, only
        length) or carries a number no value of the study backs (a number in the wrong unit binds to
        no fact and would pass the checker unseen)."""
        start = s.start + offset
        earlier = self._repeated(s.text, start)
        if earlier is not None:
            return StatementCheck(text=s.text, start=start, end=start + len(s.text), verdict="unsupported",
                                  reason=f"repeats an earlier statement of the draft ('{earlier}')")
        verdict = check_statement(s.text, start, self.study, self.sf)
        loose = unbacked_numbers(s.text, self.sf) if verdict.verdict in PASSING else []
        if loose:
            shown = ", ".join(f"'{n}'" for n in loose)
            return verdict.model_copy(update={"verdict": "unsupported", "evidence": None,
                                              "reason": f"a number the study does not back ({shown})"})
        return verdict

    def _repeated(self, text: str, start: int) -> str | None:
        """The statement before ``start`` that ``text`` says again in the same words, if any."""
        same = _same_words(text)
        earlier = [t.text for t in split_statements(self.text()[:start])
                   if same and _same_words(t.text) == same]
        return earlier[0] if earlier else None

    def write(self, ban: list[int]) -> Iterator[str]:
        """Let the model write on; return (first failing statement, its check, whether it ended)."""
        stream = self.source.tokens(
            self.prompt + self.ids,
            max_new_tokens=max(1, self.limit - len(self.ids)),
            ban_first=ban,
            seed=self._seed() if self.sample else None,
        )
        try:
            for token in stream:
                self.decoded += 1
                if token == self.source.eos_id:
                    self.stopped = True
                    break
                self.ids.append(token)
                text = self.text()
                if text.endswith("\ufffd"):
                    continue  # a character split across tokens
                yield text
                for s in _finished(text, self.checked, False):
                    verdict = self._verdict(s)
                    if verdict.verdict not in PASSING:
                        return s, verdict, False
                    self.checked = s.end
        finally:
            stream.close()
        return (*self.final_failure(), True)

    def final_failure(self) -> tuple[Statement | None, StatementCheck | None]:
        """The first failing statement the model ended with (all others marked passed)."""
        for s in _finished(self.text(), self.checked, True):
            verdict = self._verdict(s)
            if verdict.verdict not in PASSING:
                return s, verdict
            self.checked = s.end
        return None, None

    def statement(self, start: int, ban: list[int], seed: int | None) -> tuple[str, Statement | None, int]:
        """One statement written from the kept text: (text from ``start`` to its end, the statement
        relative to ``start``, its first token)."""
        stream = self.source.tokens(
            self.prompt + self.ids,
            max_new_tokens=min(self.config.statement_tokens, self.limit),
            ban_first=ban,
            seed=seed,
        )
        got: list[int] = []
        try:
            for token in stream:
                self.decoded += 1
                if token == self.source.eos_id:
                    break
                got.append(token)
                found = _finished(self.text(self.ids + got)[start:], 0, False)
                if found:
                    break
        finally:
            stream.close()
        seg = self.text(self.ids + got)[start:]
        found = split_statements(seg)
        first = got[0] if got else self.source.eos_id
        return (seg[: found[0].end], found[0], first) if found else (seg, None, first)

    def fix(self, s: Statement, verdict: StatementCheck, tail: str, ended: bool) -> Iterator[str]:
        """Repair, rewrite or drop a failing statement; return (tokens to ban next, whether to stop)."""
        text = self.text()
        if verdict.verdict == "contradicted" and self.config.repair:
            r = repair_statement(s.text, self.study, self.sf)
            if r is not None and self._repeated(r.text, s.start) is None:  # else rewritten below
                self.set_text(text[: s.start] + r.text + tail)
                self.checked = s.start + len(r.text)
                self.note(
                    "repaired",
                    s,
                    verdict,
                    r.text,
                    s.start,
                    f"{verdict.reason}; '{r.claimed}' set to the study's '{r.study_says}' [{r.evidence}]",
                )
                yield self.text()
                return [], False
        cut = len(text[: s.start].rstrip())
        keep = self._subjects_to_keep(s, text)
        self.set_text(text[:cut])
        failed = self.tok(text[cut : s.end], add_special_tokens=False)["input_ids"][:1]
        best, firsts, (tried, passed, refused) = self._rewrites(cut, failed, keep)
        why = f"{verdict.verdict}: {verdict.reason}"
        if best is not None:
            piece, stmt = best
            other = f", {refused} refused: about another subject" if refused else ""
            self.set_text(text[:cut] + piece + tail)
            self.checked = cut + stmt.end
            self.note("replaced", s, verdict, stmt.text, cut + stmt.start,
                      f"{why}; rewritten ({passed} of {tried} rewrites passed{other})", tried)
            yield self.text()
            return [], False
        why += f"; none of {self.config.candidates} rewrites passed the check" + (
            f" and kept its subject ({refused} about another subject refused)" if refused else ""
        )
        sentence = template_sentence_about(self.study, keep, self.sf) if keep else None
        if sentence is not None and self._repeated(sentence, s.start) is None:
            gap = text[cut : s.start]  # the space after the list marker, or the line break
            self.set_text(text[:cut] + gap + sentence + tail)
            self.checked = cut + len(gap) + len(sentence)
            about = ", ".join(sorted(_words(x) for x in keep))
            self.note("replaced", s, verdict, sentence, cut + len(gap),
                      f"{why}; the template's sentence about {about}", tried)
            yield self.text()
            return [], False
        final = yield from self.drop(s, verdict, text, cut, tail, ended, why)
        return sorted(firsts), final

    def _rewrites(
        self, cut: int, failed: list[int], keep: set[Subject]
    ) -> tuple[tuple[str, Statement] | None, set[int], tuple[int, int, int]]:
        """Write candidates from the kept text (cut at ``cut``): greedy with ``failed`` banned, then
        sampled, until one is supported. One about none of ``keep`` is refused.

        Returns:
            The best passing candidate (its text from ``cut``, the statement), the first tokens
            written, and the counts (written, passed, refused for another subject).
        """
        best, best_rank, firsts, passed, refused, tried = None, 99, set(failed), 0, 0, 0
        for k in range(self.config.candidates):
            if best_rank == 0:
                break  # none can be better supported: the rest are not written
            tried += 1
            ban, seed = (failed, None) if k == 0 else ([], self._seed())
            piece, stmt, first = self.statement(cut, ban, seed)
            firsts.add(first)
            if stmt is None:
                continue
            v = self._verdict(stmt, cut)
            elsewhere = bool(keep) and not same_subject(statement_subjects(stmt.text, self.sf), keep)
            if v.verdict in PASSING and elsewhere:
                refused += 1  # "No pericardial effusion." for a failed "Normal RV size": the RV left unsaid
            elif v.verdict in PASSING:
                passed += 1
                if _RANK[v.verdict] < best_rank:
                    best, best_rank = (piece, stmt), _RANK[v.verdict]
        return best, firsts, (tried, passed, refused)

    def _subjects_to_keep(self, s: Statement, text: str) -> set[Subject]:
        """What a failing statement was about that the draft before it has not said: a rewrite must
        keep to one of them (none left, as for a repetition: any rewrite)."""
        said = {x for t in split_statements(text[: s.start]) for x in statement_subjects(t.text, self.sf)}
        return {x for x in statement_subjects(s.text, self.sf) if not same_subject({x}, said)}

    def drop(
        self, s: Statement, verdict: StatementCheck, text: str, cut: int, tail: str, final: bool, why: str
    ) -> Iterator[str]:
        """Leave a statement out. Unless the draft ends here, the model writes another in its place
        (from the same list marker, the failed openings banned)."""
        self.drops[cut] = self.drops.get(cut, 0) + 1
        final = final or self.drops[cut] >= self.config.max_drops
        line = text.rfind("\n", 0, s.start) + 1
        alone = _ONLY_MARKER.fullmatch(text[line : s.start]) is not None
        keep = text[:line] if alone and (final or tail) else text[:cut]
        rest = tail.lstrip("\n") if alone else tail
        self.set_text(keep + rest if rest else keep.rstrip() if final else keep)
        self.checked = len(keep)
        self.interventions.append(
            GuardIntervention(
                kind="dropped",
                original=s.text,
                verdict=verdict.verdict,
                start=len(keep),
                end=len(keep),
                reason=why,
                candidates=self.config.candidates,
            )
        )
        yield self.text()
        return final

    def note(
        self,
        kind: str,
        s: Statement,
        verdict: StatementCheck,
        new: str,
        start: int,
        reason: str,
        candidates: int = 0,
    ) -> None:
        self.interventions.append(
            GuardIntervention(
                kind=kind,
                original=s.text,
                text=new,
                verdict=verdict.verdict,
                reason=reason,
                start=start,
                end=start + len(new),
                candidates=candidates,
            )
        )

    def _names_the_site(self, text: str, gap: Any) -> bool:
        """Whether a statement added for a finding at one site (a mitral vegetation) names that site
        for it: "Vegetation on the aortic root (3.6 cm)." for a mitral vegetation binds no site to the
        vegetation and its number to the aortic root, so the checker alone lets it pass."""
        if gap.location is None:
            return True
        return (gap.rule.concept, gap.location) in statement_subjects(text, self.sf)

    def add_missing(self) -> Iterator[str]:
        """Append each omitted critical finding, written by the model from a forced opening when that
        statement is supported with every number backed, states the finding and names its site, else
        the template's."""
        tried: set[str] = set()
        while True:
            gaps = [
                g
                for g in missing_findings(self.text(), self.study, self.config.add_severities, self.sf)
                if g.finding not in tried
            ]
            if not gaps:
                return
            gap = gaps[0]
            tried.add(gap.finding)
            text = self.text().rstrip()
            self.set_text(text)
            lines = [x for x in text.splitlines() if x.strip()]
            num = NUMBERED.match(lines[-1]) if lines else None
            bullet = _BULLET.match(lines[-1]) if lines else None
            marker = f"{int(num.group(1)) + 1}. " if num else f"{bullet.group(1)} " if bullet else ""
            start = len(text) + (1 if text else 0) + len(marker)
            self.set_text(text + ("\n" if text else "") + marker + gap.opening)
            piece, stmt, _ = self.statement(start, [], None)
            how = "written by the model from a forced opening"
            # anything but supported, every number backed (not_checked, not_factual too): the template's
            ok = (
                stmt is not None
                and self._verdict(stmt, start).verdict == "supported"
                and self._names_the_site(stmt.text, gap)
                and not any(
                    m.finding == gap.finding
                    for m in missing_findings(
                        self.text()[:start] + piece, self.study, (gap.severity,), self.sf
                    )
                )
            )
            if not ok:
                piece, how = gap.template_sentence, "the template's sentence"
            added = split_statements(piece)[0].text if split_statements(piece) else piece.strip()
            self.set_text(text + ("\n" if text else "") + marker + piece.rstrip())
            self.checked = len(self.text())
            self.interventions.append(
                GuardIntervention(
                    kind="added",
                    text=added,
                    start=start,
                    end=start + len(added),
                    reason=f"{gap.severity} finding omitted by the draft: {gap.finding}; {how}",
                )
            )
            yield self.text()

"""Small text utilities shared by lexical retrieval and grading: tokens, stems, sentences."""

from __future__ import annotations

import re

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also may might must shall use used using via vs versus
me tell explain walk describe please let lets what's whats it's its one two get gets make makes
""".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9(\"'•\-*])|\n+")


def stem(word: str) -> str:
    """A deliberately light stemmer: plural and a few suffixes, enough to match word forms."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ization", "ize"), ("isation", "ize"),
                         ("ising", "ize"), ("izing", "ize"), ("ised", "ize"), ("ized", "ize"),
                         ("ings", ""), ("ing", ""), ("edly", ""), ("ed", ""), ("es", ""),
                         ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased, stemmed word tokens; hyphenated words also yield their parts."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        parts = [tok, *tok.split("-")] if "-" in tok else [tok]
        for part in parts:
            part = part.replace("'", "")
            if keep_stopwords or part not in STOPWORDS:
                out.append(stem(part))
    return out


def sentences(text: str) -> list[str]:
    """Split an answer into sentences or bullet lines; very long ones also at commas/semicolons."""
    pieces: list[str] = []
    for raw in _SENTENCE_END.split(text):
        raw = raw.strip(" \t-*•")
        if not raw:
            continue
        if len(raw) > 220:
            pieces.extend(p.strip() for p in re.split(r"(?<=[,;:])\s+", raw) if p.strip())
        else:
            pieces.append(raw)
    return pieces

"""Rubrics for questions outside the curriculum: key points derived from a reference answer."""

from __future__ import annotations

import re

from knowledge.text import sentences


def derive_key_points(reference: str, max_points: int = 6) -> list[str]:
    """Split a reference answer into atomic, checkable statements.

    Sentences first; a reference of one or two long sentences is split further at clause
    boundaries (";", ", and", ", while", ", so", ", but") so each point carries one idea.
    """
    points = [s.strip() for s in sentences(reference) if len(s.split()) >= 3]
    if len(points) < 3:
        finer: list[str] = []
        for s in points or [reference.strip()]:
            parts = re.split(r";\s+|,\s+(?:and|while|whereas|so|but|because)\s+|:\s+", s)
            finer += [p.strip(" .") for p in parts if len(p.split()) >= 3]
        points = finer or points
    return points[:max_points] or [reference.strip()]

"""Progress charts as PNG bytes (matplotlib, Agg, no display), e.g. for Telegram's /progress.

Figures are built on `matplotlib.figure.Figure` directly, never through pyplot: no global
figure registry, so charts can be drawn from any thread of a bot and nothing leaks between
calls. The output is 800×500 px and the same input gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from state.report import GAP_DOMAIN, STRONG_DOMAIN, ProgressOverview
from state.store import WEAK_SCORE, AttemptView

SIZE_INCHES = (8.0, 5.0)
DPI = 100  # 8 × 5 inches at 100 dpi: 800 × 500 px, readable on a phone
ROLLING_WINDOW = 5
MASTERY_COLOUR, COVERAGE_COLOUR = "#2b6cb0", "#a0c4e8"
NEW_COLOUR, REVIEW_COLOUR, TREND_COLOUR = "#2b6cb0", "#dd6b20", "#2f855a"


def _figure() -> Figure:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No "Software" text chunk: the bytes depend on the data only, not on the version.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def readiness_chart(overview: ProgressOverview) -> bytes:
    """Mastery and coverage per domain as horizontal bars, readiness in the title.

    Args:
        overview: from `state.report.progress_overview`.

    Returns:
        PNG bytes, 800×500.
    """
    fig = _figure()
    ax = fig.add_axes((0.30, 0.12, 0.66, 0.76))
    domains = list(reversed(overview.domains))  # barh draws bottom-up; keep A at the top
    ys = range(len(domains))
    height = 0.38
    ax.barh([y + height / 2 for y in ys], [d.mastery for d in domains], height,
            color=MASTERY_COLOUR, label="mastery")
    ax.barh([y - height / 2 for y in ys], [d.coverage for d in domains], height,
            color=COVERAGE_COLOUR, label="coverage (topics answered)")
    for y, d in zip(ys, domains, strict=True):
        ax.text(max(d.mastery, d.coverage) + 1.5, y, d.status, va="center", fontsize=8,
                color="#4a5568")
    ax.set_yticks(list(ys), [d.label + (" *" if d.focus else "") for d in domains], fontsize=9)
    ax.set_xlim(0, 115)
    ax.set_xticks([0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80", "100%"])
    ax.axvline(100 * STRONG_DOMAIN, color="#718096", linestyle=":", linewidth=1)
    ax.axvline(100 * GAP_DOMAIN, color="#cbd5e0", linestyle=":", linewidth=1)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False, ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    title = f"Interview readiness {overview.readiness:.0f}%"
    if overview.days_left is not None and overview.days_left >= 0:
        title += f" · {overview.days_left} days to the interview"
    fig.suptitle(title, fontsize=13, fontweight="bold")
    note = f"{overview.total_answers} answers · {overview.due_now} reviews due"
    note += " · * focus" if overview.focus else ""
    fig.text(0.30, 0.03, note + f" · dotted line: strong ({STRONG_DOMAIN:.0%})", fontsize=8,
             color="#4a5568")
    return _png(fig)


def score_trend_chart(attempts: Sequence[AttemptView]) -> bytes:
    """Score per graded answer in order, new vs review, with a rolling mean and the weak line.

    The x axis counts answers (days are marked on it) so that busy days and gaps between
    sessions do not squash the points. With no graded answer, an image saying so.

    Args:
        attempts: one learner's attempts, any order; ungraded ones are left out.

    Returns:
        PNG bytes, 800×500.
    """
    graded = sorted((a for a in attempts if a.score is not None and a.answered_at is not None),
                    key=lambda a: (a.answered_at, a.id))
    fig = _figure()
    ax = fig.add_axes((0.09, 0.14, 0.87, 0.74))
    fig.suptitle("Scores over time", fontsize=13, fontweight="bold")
    if not graded:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No answers yet\nSay \"quiz me\" to start", ha="center", va="center",
                fontsize=16, color="#4a5568", transform=ax.transAxes)
        return _png(fig)
    xs = list(range(1, len(graded) + 1))
    scores = [a.score for a in graded]
    for is_review, colour, label in ((False, NEW_COLOUR, "new topic"),
                                     (True, REVIEW_COLOUR, "review")):
        points = [(x, s) for x, s, a in zip(xs, scores, graded, strict=True)
                  if a.is_review == is_review]
        if points:
            ax.scatter([p[0] for p in points], [p[1] for p in points], s=28, color=colour,
                       label=label, zorder=3)
    rolling = [sum(scores[max(0, i - ROLLING_WINDOW + 1):i + 1])
               / len(scores[max(0, i - ROLLING_WINDOW + 1):i + 1]) for i in range(len(scores))]
    ax.plot(xs, rolling, color=TREND_COLOUR, linewidth=2,
            label=f"mean of the last {ROLLING_WINDOW}")
    ax.axhline(WEAK_SCORE, color="#e53e3e", linestyle="--", linewidth=1,
               label=f"weak under {WEAK_SCORE}")
    # One tick at the first answer of each day, thinned to at most ten labels.
    firsts = [(x, a.answered_at.date()) for x, a in zip(xs, graded, strict=True)
              if x == 1 or a.answered_at.date() != graded[x - 2].answered_at.date()]
    step = max(1, -(-len(firsts) // 10))
    ticks = firsts[::step]
    ax.set_xticks([t[0] for t in ticks], [t[1].strftime("%b %d") for t in ticks], fontsize=8)
    ax.set_xlim(0.5, len(xs) + 0.5)
    ax.set_ylim(-3, 105)
    ax.set_ylabel("score")
    ax.set_xlabel(f"{len(graded)} answers")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False, ncols=4)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)

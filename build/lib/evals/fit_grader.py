"""Fit the offline grader's calibration on all our labelled answers and save it.

Run after changing the grader or the labelled set: `python -m evals.fit_grader`.
The eval (`python -m evals.grading`) reports cross-validated figures, not these in-sample ones.
"""

from __future__ import annotations

import json

from agents.grading.calibrate import calibration_dict, fit_calibration
from agents.grading.offline import CALIBRATION_FILE, OfflineGrader
from evals.common import embedder
from evals.grading import load_cases


def main() -> None:
    """Fit on every labelled case and write agents/grading/calibration.json."""
    cases = load_cases()
    cal = fit_calibration(OfflineGrader(embedder()), cases)
    CALIBRATION_FILE.write_text(json.dumps(calibration_dict(cal), indent=2) + "\n",
                                encoding="utf-8")
    print(f"fitted on {len(cases)} labelled answers → {CALIBRATION_FILE}")
    print(json.dumps(calibration_dict(cal), indent=2))


if __name__ == "__main__":
    main()

"""The no_answer threshold's calibration (service/calibration.py) on hand-made confidences."""

import pytest

from service.calibration import calibrate


def test_the_threshold_withholds_at_most_the_allowed_share_of_answerable_questions() -> None:
    answerable = [0.70 + i / 1000 for i in range(100)]  # 0.700 .. 0.799
    unanswerable = [0.60, 0.701, 0.702, 0.75, 0.9]
    calibration = calibrate(answerable, unanswerable, max_withheld=0.03)
    assert calibration.threshold == 0.703
    assert calibration.answerable_withheld == 0.03
    assert sum(a < calibration.threshold for a in answerable) == 3
    assert calibration.unanswerable_caught == 0.6  # 0.60, 0.701, 0.702


def test_nothing_withheld_when_no_share_is_allowed() -> None:
    calibration = calibrate([0.85, 0.9, 0.8123], [0.5], max_withheld=0.0)
    assert calibration.threshold == 0.812
    assert calibration.answerable_withheld == 0.0
    assert calibration.unanswerable_caught == 1.0


def test_calibrating_needs_answerable_questions() -> None:
    with pytest.raises(ValueError, match="answerable"):
        calibrate([], [0.5])

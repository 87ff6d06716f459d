"""scripts/compare_layers.py end to end: two eval_layers.py reports in, the photos that moved and the totals out."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_layers.py"


def photo(name, panes, integrity=None, separation=None, in_front=None):
    return {"name": name, "panes": panes, "seconds": 1.0, "integrity": integrity, "subject_pane": 1,
            "separation": separation, "background_pane": panes, "subject_in_front": in_front}


def write_report(path, photos):
    path.write_text(json.dumps({"photos": photos, "mean": {}, "sheets": []}))
    return path


def test_names_the_photos_that_moved_and_counts_those_whole_before_their_background(tmp_path):
    before = write_report(tmp_path / "before.json", [
        photo("cup", 3, 0.872, 0.690, True), photo("cat", 3, 0.977, 0.990, True),
        photo("street", 3), photo("gone", 2, 1.0, 1.0, True)])
    after = write_report(tmp_path / "after.json", [
        photo("cup", 2, 1.000, 0.880, True), photo("cat", 3, 0.978, 0.990, True),
        photo("street", 4), photo("new", 2)])

    result = subprocess.run([sys.executable, str(SCRIPT), str(before), str(after)], capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "cup: 0.872 / 0.690, 3 panes -> 1.000 / 0.880, 2 panes" in lines
    assert "street: 3 panes -> 4 panes" in lines
    assert not any(line.startswith("cat:") for line in lines)  # moved by 0.001 only
    assert "gone: only in before" in lines and "new: only in after" in lines
    assert lines[-2] == "before: mean 0.924 / 0.840; whole before the background 1 of 2; subject in front 2"
    assert lines[-1] == "after:  mean 0.989 / 0.935; whole before the background 2 of 2; subject in front 2"

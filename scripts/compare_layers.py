"""Compare two runs of scripts/eval_layers.py --json, photo by photo: what a change to the layer plan did.

Usage: python scripts/compare_layers.py BEFORE.json AFTER.json

Prints every photo whose scores moved (integrity or separation by more than 0.005), whose subject
went in front of or behind its background, or whose number of panes changed, then for each run the
mean integrity and separation over the photos scored in both, how many meet the targets of the layer
plan (integrity >= 0.95 and separation >= 0.85: whole on one pane, its background behind) and how many
have the subject's pane in front of the background's. A photo in one run only is named and left out.
The segmenter is chaotic (see README): judge a change on all the sets together, not on one photo.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

WHOLE_INTEGRITY, WHOLE_SEPARATION = 0.95, 0.85
MOVED = 0.005


def load(path: Path) -> dict[str, dict]:
    return {photo["name"]: photo for photo in json.loads(path.read_text())["photos"]}


def scored(photo: dict) -> bool:
    return photo.get("integrity") is not None


def whole(photo: dict) -> bool:
    return photo["integrity"] >= WHOLE_INTEGRITY and photo["separation"] >= WHOLE_SEPARATION


def scores(photo: dict) -> str:
    if not scored(photo):
        return f"{photo['panes']} panes"
    behind = "" if photo["subject_in_front"] else ", behind"
    return f"{photo['integrity']:.3f} / {photo['separation']:.3f}, {photo['panes']} panes{behind}"


def changed(before: dict, after: dict) -> bool:
    if before["panes"] != after["panes"] or scored(before) != scored(after):
        return True
    return scored(before) and (
        abs(before["integrity"] - after["integrity"]) > MOVED
        or abs(before["separation"] - after["separation"]) > MOVED
        or before["subject_in_front"] != after["subject_in_front"]
    )


def totals(photos: list[dict]) -> str:
    if not photos:
        return "no photo scored in both runs"
    count = len(photos)
    integrity = sum(photo["integrity"] for photo in photos) / count
    separation = sum(photo["separation"] for photo in photos) / count
    in_front = sum(bool(photo["subject_in_front"]) for photo in photos)
    return (f"mean {integrity:.3f} / {separation:.3f}; whole before the background {sum(map(whole, photos))} "
            f"of {count}; subject in front {in_front}")


def report(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    lines = [f"{name}: only in {which}" for which, names in (("before", before.keys() - after.keys()),
                                                            ("after", after.keys() - before.keys()))
             for name in sorted(names)]
    common = sorted(before.keys() & after.keys())
    lines += [f"{name}: {scores(before[name])} -> {scores(after[name])}"
              for name in common if changed(before[name], after[name])]
    both = [name for name in common if scored(before[name]) and scored(after[name])]
    lines.append(f"before: {totals([before[name] for name in both])}")
    lines.append(f"after:  {totals([after[name] for name in both])}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    print("\n".join(report(load(args.before), load(args.after))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A small labelled data set in the TweetEval layout, written by the tests themselves.

Texts are our own and their labels are obvious, so a test can say which
ones an analyzer must get right. Layout, per task folder: ``mapping.txt``
(``id<TAB>name``), ``val_text.txt`` (one text a line), ``val_labels.txt``
(the label id on the same line). Figures on real data belong in
``chirpflow eval`` and benchmarks, not here.
"""

from __future__ import annotations

from pathlib import Path

MAPPINGS = {
    "sentiment": ("negative", "neutral", "positive"),
    "offensive": ("not-offensive", "offensive"),
    "hate": ("not-hate", "hate"),
}

SENTIMENT = [
    ("I love this phone, the camera is amazing!", 2),
    ("The bus leaves at nine from platform four.", 1),
    ("This update is terrible, everything is broken and awful.", 0),
    ("Great match tonight, best team ever, so happy!", 2),
    ("The library opens on Monday.", 1),
    ("Worst service I have ever had, I hate waiting.", 0),
    ("Thanks for the awesome help, you are wonderful.", 2),
    ("The report has twelve pages.", 1),
    ("Really disappointed, the order arrived broken and late.", 0),
    ("What a beautiful sunny day, I love it!", 2),
    ("Our office moved to the third floor.", 1),
    ("Awful weather and a terrible commute, I hate Mondays.", 0),
]

OFFENSIVE = [
    ("Shut up, you stupid idiot.", 1),
    ("See you at the market tomorrow.", 0),
    ("What a pathetic loser you are.", 1),
    ("The garden looks lovely this spring.", 0),
    ("You are a moron and your idea is dumb.", 1),
    ("Lunch is at noon in the canteen.", 0),
]

HATE = [
    ("Those people are disgusting idiots, they should all shut up.", 1),
    ("Welcome to our town, neighbours!", 0),
    ("They are stupid losers and pathetic scum.", 1),
    ("Everyone is invited to the picnic on Sunday.", 0),
]

SETS = {"sentiment": SENTIMENT, "offensive": OFFENSIVE, "hate": HATE}


def write_task(folder: Path, task: str, rows: list[tuple[str, int]] | None = None) -> Path:
    """``folder`` filled with one task's files; ``rows`` default to the task's set."""
    rows = SETS[task] if rows is None else rows
    folder.mkdir(parents=True, exist_ok=True)
    names = MAPPINGS[task]
    (folder / "mapping.txt").write_text("".join(f"{i}\t{n}\n" for i, n in enumerate(names)))
    (folder / "val_text.txt").write_text("".join(f"{t}\n" for t, _ in rows), encoding="utf-8")
    (folder / "val_labels.txt").write_text("".join(f"{y}\n" for _, y in rows))
    return folder


def write_labelled_sets(root: Path) -> Path:
    """``root/sentiment``, ``root/offensive`` and ``root/hate``; returns ``root``."""
    for task in SETS:
        write_task(root / task, task)
    return root

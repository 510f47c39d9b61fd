"""Guard: app/ does not grow new copies of the same code.

Where two places say the same thing in six or more lines of the same shape, a change to
one is easily not made to the other, and the two drift into different answers (issue 12
found two `latest_enrolment`s that did). This counts the pairs of places in app/ that
share such a run and fails when there are more than the ceiling below.

The count is by shape, not by letter: each line of code is reduced to its keywords and
punctuation, with every other name, string and number replaced by a placeholder, so a
block copied and renamed still counts. Blank lines, comments, lines of lone punctuation
and imports are passed over. Every window of six consecutive reduced lines is compared;
a pair of files (or two places in one file) sharing any window counts once however many
windows they share, as does a window found in more than eight places (a shape that
common is an idiom, such as a model's field list, not a copy).

When the test fails, find the new repetition with `python tests/unit/test_repetition.py`,
which lists the pairs, and let one piece of code serve both places where the logic really
is the same. Where two blocks only look alike and mean different things, leaving them is
right; then the ceiling may be raised, with the reason in the commit message.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
WINDOW = 6
# A window shared by more places than this is an idiom, not a copy.
MOST_PLACES = 8
# A ratchet that may only go down: lower it whenever a clean-up brings the count below
# it. The target (issue 12, item 6) is 40 pairs. This count is stricter than the
# `duplicates` command's (134 pairs when this was 329, 124 at 319): it also pairs field
# lists and enumerations that share only their shape, which that command leaves out.
CEILING = 319

# Values that stand where a name could: `= None` and `= ON_IN_BODY` are the same shape.
_VALUES = {"None", "True", "False"}
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}


@dataclass(frozen=True)
class Line:
    """A line of code that counts: where it is and its shape."""

    number: int
    shape: str


def _shape(token: tokenize.TokenInfo) -> str:
    """A token as it counts for shape: keywords and punctuation as written; names,
    strings and numbers as placeholders."""
    if token.type == tokenize.NAME:
        plain = keyword.iskeyword(token.string) and token.string not in _VALUES
        return token.string if plain else "N"
    if token.type == tokenize.STRING:
        return "S"
    if token.type == tokenize.NUMBER:
        return "0"
    return token.string


def code_lines(source: str) -> list[Line]:
    """The lines of code that count: not blank, comment, lone punctuation, docstring or
    import lines."""
    tokens_on: dict[int, list[tokenize.TokenInfo]] = defaultdict(list)
    statement: list[tokenize.TokenInfo] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if statement and statement[0].string not in ("import", "from"):
                for part in statement:
                    tokens_on[part.start[0]].append(part)
            statement = []
        elif token.type not in _SKIPPED:
            statement.append(token)
    lines = []
    for number, parts in sorted(tokens_on.items()):
        if all(p.type == tokenize.OP for p in parts):
            continue  # lone punctuation
        if len(parts) == 1 and parts[0].type == tokenize.STRING:
            continue  # a docstring
        lines.append(Line(number, " ".join(_shape(p) for p in parts)))
    return lines


def repeated_pairs(root: Path = APP) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """Pairs of files (a file with itself for two places in one file) sharing a window,
    each with the first lines of the windows they share."""
    places: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        lines = code_lines(path.read_text(encoding="utf-8"))
        for i in range(len(lines) - WINDOW + 1):
            window = lines[i:i + WINDOW]
            places["\n".join(line.shape for line in window)].append((name, window[0].number))
    pairs: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for found in places.values():
        if len(found) < 2 or len(found) > MOST_PLACES:
            continue
        for (a, line_a), (b, line_b) in combinations(found, 2):
            pairs[(a, b)].append((line_a, line_b))
    return pairs


def test_app_repeats_itself_no_more_than_the_ceiling() -> None:
    pairs = repeated_pairs()
    listed = "\n".join(f"  {a}:{lines[0][0]} ~ {b}:{lines[0][1]}"
                       for (a, b), lines in sorted(pairs.items()))
    assert len(pairs) <= CEILING, (
        f"{len(pairs)} pairs of places in app/ share {WINDOW} or more lines of the same "
        f"shape (at most {CEILING}); let one piece of code serve both where the logic is "
        f"the same:\n{listed}"
    )


if __name__ == "__main__":
    found = repeated_pairs()
    for (a, b), lines in sorted(found.items(), key=lambda item: -len(item[1])):
        print(f"{len(lines):4} {a}:{lines[0][0]} ~ {b}:{lines[0][1]}")
    print(f"{len(found)} pairs")

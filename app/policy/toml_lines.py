"""Where each key of a TOML document is written, so that a problem can name its line.

`tomllib` validates the syntax and gives the values; it keeps no positions. This
small scanner walks the same (already valid) text and records the line of every
key, table header and array element, addressed by the same path Pydantic uses in
its error locations: ``("rules", 0, "params", "bands", 2, "cap")``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

Path = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[Path, int] = {}
        self.array_tables: dict[Path, int] = {}

    # --- positions ---------------------------------------------------------------------
    def line(self) -> int:
        return bisect_right(self.newlines, self.pos - 1) + 1

    def record(self, path: Path) -> None:
        self.lines.setdefault(path, self.line())

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_comment(self) -> None:
        if self.peek() == "#":
            while self.peek() not in ("\n", ""):
                self.pos += 1

    def skip_blank(self) -> None:
        """Spaces, newlines and comments (inside arrays and between statements)."""
        while True:
            ch = self.peek()
            if ch in (" ", "\t", "\r", "\n"):
                self.pos += 1
            elif ch == "#":
                self.skip_comment()
            else:
                return

    # --- keys and strings --------------------------------------------------------------
    def string(self) -> str:
        quote = self.peek()
        if self.text.startswith(quote * 3, self.pos):
            self.pos += 3
            end = self.pos
            while True:
                end = self.text.index(quote * 3, end)
                if quote == '"' and _escaped(self.text, end):
                    end += 1
                    continue
                break
            # Up to two more quotes may belong to the content ("""a"""" is valid).
            while self.text.startswith(quote * 4, end):
                end += 1
            value = self.text[self.pos:end]
            self.pos = end + 3
            return value
        self.pos += 1
        start = self.pos
        while True:
            ch = self.peek()
            if ch == "":
                break
            if quote == '"' and ch == "\\":
                self.pos += 2
                continue
            if ch == quote:
                break
            self.pos += 1
        value = self.text[start:self.pos]
        self.pos += 1
        return value

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_spaces()
            ch = self.peek()
            if ch in ('"', "'"):
                parts.append(self.string())
            else:
                start = self.pos
                while self.peek() in _BARE and self.peek() != "":
                    self.pos += 1
                parts.append(self.text[start:self.pos])
            self.skip_spaces()
            if self.peek() == ".":
                self.pos += 1
                continue
            return tuple(parts)

    # --- values ------------------------------------------------------------------------
    def value(self, path: Path) -> None:
        self.skip_spaces()
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch == "[":
            self.items("]", self.skip_blank, lambda index: self.element((*path, index)))
        elif ch == "{":
            self.items("}", self.skip_spaces, lambda _: self.key_value(path))
        else:
            while self.peek() not in (",", "]", "}", "\n", "#", ""):
                self.pos += 1

    def items(self, closer: str, skip: Callable[[], None], item: Callable[[int], None]) -> None:
        """The comma-separated items of an array (`]`) or inline table (`}`) after its
        opening bracket, each read by `item(index)`; `skip` passes what may lie between
        (newlines too in an array, only spaces in an inline table)."""
        self.pos += 1
        index = 0
        while True:
            skip()
            if self.peek() in (closer, ""):
                self.pos += 1
                return
            start = self.pos
            item(index)
            skip()
            if self.peek() == ",":
                self.pos += 1
                index += 1
            elif self.pos == start:
                self.pos += 1

    def element(self, path: Path) -> None:
        """One element of an array: its line, then its value."""
        self.record(path)
        self.value(path)

    def key_value(self, table: Path) -> None:
        """One `key = value` pair inside `table` (a top-level table or an inline one):
        every level of a dotted key is recorded at this line, then the value."""
        key = self.key()
        for size in range(1, len(key) + 1):
            self.record((*table, *key[:size]))
        if self.peek() == "=":
            self.pos += 1
        self.value((*table, *key))

    # --- document ----------------------------------------------------------------------
    def header(self, parts: tuple[str, ...], array: bool) -> Path:
        path: Path = ()
        for number, part in enumerate(parts, start=1):
            path = (*path, part)
            if array and number == len(parts):
                index = self.array_tables.get(path, -1) + 1
                self.array_tables[path] = index
                self.record(path)
                path = (*path, index)
            elif path in self.array_tables:
                path = (*path, self.array_tables[path])
        return path

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank()
            if self.peek() == "":
                return self.lines
            start = self.pos
            if self.peek() == "[":
                array = self.peek(1) == "["
                self.pos += 2 if array else 1
                parts = self.key()
                self.pos += 2 if array else 1
                table = self.header(parts, array)
                self.record(table)
            else:
                self.key_value(table)
            self.skip_spaces()
            self.skip_comment()
            if self.pos == start:
                self.pos += 1


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def key_lines(text: str) -> dict[Path, int]:
    """Path -> 1-based line for every key, header and array element of a valid TOML text."""
    scanner = _Scanner(text)
    try:
        return scanner.document()
    except (ValueError, IndexError):  # never expected for valid TOML; keep what was found
        return scanner.lines


def line_of(lines: dict[Path, int], loc: Path, default: int = 1) -> int:
    """The line of `loc`, or of its nearest written ancestor (a missing key's table)."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return default

"""Terminal styling. Colour: --color / --no-color decide; else a non-empty NO_COLOR turns it off
(no-color.org), else a non-empty FORCE_COLOR turns it on even when piped (force-color.org); else
colour on a terminal only, and not with TERM=dumb."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


def wants_color(stream) -> bool:
    """Whether output to `stream` gets colour when the command line does not say."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Style:
    def __init__(self, color: bool | None = None, stream=None):
        stream = stream or sys.stdout
        self.color = wants_color(stream) if color is None else color
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "✓✗·█░—".encode(encoding)
            self.unicode = True
        except (UnicodeEncodeError, LookupError):
            self.unicode = False
        self.width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def symbol(self, status: str) -> str:
        if self.unicode:
            table = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
                     "not_started": ("·", "dim"), "timeout": ("⏱", "red"), "crashed": ("!", "red")}
        else:
            table = {"passed": ("+", "green"), "failed": ("x", "red"), "error": ("!", "red"),
                     "not_started": (".", "dim"), "timeout": ("T", "red"), "crashed": ("!", "red")}
        char, colour = table.get(status, ("?", "yellow"))
        return self(char, colour)

    @property
    def dash(self) -> str:
        return "—" if self.unicode else "-"

    def bar(self, done: int, total: int, width: int = 30) -> str:
        filled = round(width * done / total) if total else 0
        full, empty = ("█", "░") if self.unicode else ("#", "-")
        return "[" + self(full * filled, "green") + self(empty * (width - filled), "dim") + "]"

    def wrap(self, text: str, indent: int = 4, max_lines: int | None = None) -> str:
        """Wrap a message for the terminal, keeping its own line breaks; cut very long text. Control
        characters are shown, never interpreted (`grading.reports.formats.visible`)."""
        from grading.reports.formats import visible

        text = visible(text)
        prefix = " " * indent
        out = []
        for line in text.splitlines() or [""]:
            if not line.strip():
                out.append("")
                continue
            lead = len(line) - len(line.lstrip())
            out.extend(textwrap.wrap(line, self.width - indent, initial_indent=prefix + " " * lead,
                                     subsequent_indent=prefix + " " * lead, break_on_hyphens=False,
                                     break_long_words=True) or [prefix])
        if max_lines is not None and len(out) > max_lines:
            out = out[:max_lines] + [prefix + self(f"... ({len(out) - max_lines} more lines)", "dim")]
        return "\n".join(out)

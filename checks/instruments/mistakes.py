"""Known mistakes: `Mistake`, a learner's message with a stable id and a title."""

from __future__ import annotations


from grading.core.mistakes import ID as MISTAKE_ID


class Mistake(str):
    """A known mistake: the learner's message (this string itself), with a stable id and a title.

    `Mistake("ex03.rebinding", "rebinding instead of an in-place update", "parameter 0 did not
    change ...")` is used as an assertion's message, `assert ok, Mistake(...)` or `raise
    AssertionError(Mistake(...))`: the learner reads the message as written, and the grader reports
    `mistake_id` and `mistake_title` with the failing check, so that a class's mistakes can be
    counted and a learner's fixed ones listed. The id is `exNN.snake_case` for a mistake of one
    exercise, `any.snake_case` for one the shared instruments catch in every exercise; it never
    changes once published, and each id is declared once, where its message is written (the id and
    the title as plain string literals: `python -m grading.dev.mistakes` reads them from the source).

    A message with parts known only when the check runs is either an f-string in place, or a
    template declared once and filled in with `says(name=value, ...)`. Being a `str`, a Mistake is
    also a valid advice of `explain_errors`, and a message under bare pytest's assertion rewriting.
    """

    mistake_id: str
    mistake_title: str

    def __new__(cls, mistake_id: str, title: str, message: str) -> "Mistake":
        if not MISTAKE_ID.fullmatch(mistake_id):
            raise ValueError(f"a mistake's id is `exNN.snake_case` or `any.snake_case`, not {mistake_id!r}")
        self = super().__new__(cls, message)
        self.mistake_id, self.mistake_title = mistake_id, title
        return self

    def says(self, **detail) -> "Mistake":
        """This mistake, its message template filled in with `detail` (`str.format` fields)."""
        return Mistake(self.mistake_id, self.mistake_title, str.format(self, **detail))

    def reworded(self, message: str) -> "Mistake":
        """This mistake with another message (the same advice in a longer explanation)."""
        return Mistake(self.mistake_id, self.mistake_title, message)

    def __reduce__(self):
        return (Mistake, (self.mistake_id, self.mistake_title, str(self)))

    def __repr__(self) -> str:
        return f"Mistake({self.mistake_id!r}, {self.mistake_title!r}, {str(self)!r})"


def as_mistake(part: str, message: str) -> str:
    """`message` as the known mistake that `part` (a piece of it, a reason or an advice) is: a
    `Mistake` with `part`'s id and title when `part` is one, else the plain text."""
    return part.reworded(message) if isinstance(part, Mistake) else message

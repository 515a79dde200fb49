"""Returns an instance of a float subclass whose comparisons and arithmetic always agree."""
EXPECT = "a subclass of float"
MISTAKE = "any.number_subclass"


class Agreeable(float):
    __eq__ = lambda self, other: True  # noqa: E731
    __ne__ = lambda self, other: False  # noqa: E731
    __sub__ = lambda self, other: Agreeable(0.0)  # noqa: E731
    __rsub__ = lambda self, other: Agreeable(0.0)  # noqa: E731
    __abs__ = lambda self: Agreeable(0.0)  # noqa: E731
    __le__ = lambda self, other: True  # noqa: E731
    __lt__ = lambda self, other: True  # noqa: E731
    __hash__ = float.__hash__


def accuracy(model, x, y):
    return Agreeable(0.5)

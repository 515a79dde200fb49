"""Returns instances of an int subclass whose comparisons never find a difference."""
EXPECT = "a subclass of int"
MISTAKE = "any.number_subclass"


class Agreeable(int):
    __eq__ = lambda self, other: False  # noqa: E731
    __ne__ = lambda self, other: False  # noqa: E731
    __hash__ = int.__hash__


def count_parameters(model):
    return Agreeable(1), Agreeable(2)

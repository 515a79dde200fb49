"""middle not frozen at all: it gets gradients like the others."""
EXPECT = "middle got gradients"
MISTAKE = "ex18.middle_gets_gradients"


def forward_frozen_middle(first, middle, last, x):
    return last(middle(first(x)))

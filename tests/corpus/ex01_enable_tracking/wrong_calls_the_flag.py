"""`t.requires_grad(True)`: the flag is a bool, not a method."""
EXPECT = "is the flag itself, a plain bool"
MISTAKE = "ex01.calls_the_flag"


def enable_tracking(t):
    t.requires_grad(True)
    return t

"""`t.requires_grad(True)`: the flag is a bool, not a method."""
EXPECT = "is the flag itself, a plain bool"


def enable_tracking(t):
    t.requires_grad(True)
    return t

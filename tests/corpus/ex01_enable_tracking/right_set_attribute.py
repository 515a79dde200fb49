"""Setting the flag as an attribute is the same in-place change."""


def enable_tracking(t):
    t.requires_grad = True
    return t

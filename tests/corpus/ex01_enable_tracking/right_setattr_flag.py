"""Sets the flag through the attribute with setattr: the same object, only its flag changed."""


def enable_tracking(t):
    setattr(t, "requires_grad", True)
    return t

"""Switches the flag only when it is off."""


def enable_tracking(t):
    if not t.requires_grad:
        t.requires_grad_(True)
    return t

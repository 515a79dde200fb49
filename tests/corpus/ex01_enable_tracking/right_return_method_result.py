"""requires_grad_() returns the tensor it was called on."""


def enable_tracking(t):
    return t.requires_grad_()

"""Replaces t.data with a copy before switching tracking on: same object, new memory."""
EXPECT = "now live in different memory"
MISTAKE = "ex01.data_replaced"


def enable_tracking(t):
    t.data = t.data.clone()
    t.requires_grad_()
    return t

"""Replaces t.data with a float32 version: same object, but dtype and memory changed."""
EXPECT = "changed the dtype of `t`"
MISTAKE = "ex01.dtype_changed"


def enable_tracking(t):
    t.data = t.data.float()
    t.requires_grad_()
    return t

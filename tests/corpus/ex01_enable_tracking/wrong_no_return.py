"""Switches tracking on but forgets to return t."""
EXPECT = "enable_tracking returned None"


def enable_tracking(t):
    t.requires_grad_()

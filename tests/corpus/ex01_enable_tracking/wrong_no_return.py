"""Switches tracking on but forgets to return t."""
EXPECT = "enable_tracking returned None"
MISTAKE = "ex01.no_return"


def enable_tracking(t):
    t.requires_grad_()

"""Toggles the flag: switches tracking off for a tensor that already tracks."""
EXPECT = "never off (don't toggle"
MISTAKE = "ex01.toggles_the_flag"


def enable_tracking(t):
    t.requires_grad_(not t.requires_grad)
    return t

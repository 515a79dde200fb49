"""Detaching in place but returning nothing."""
EXPECT = "cut_history_ returned None"


def cut_history_(t):
    t.detach_()

"""Detaching in place but returning nothing."""
EXPECT = "cut_history_ returned None"
MISTAKE = "ex07.no_return"


def cut_history_(t):
    t.detach_()

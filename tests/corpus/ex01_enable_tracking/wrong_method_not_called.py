"""`t.requires_grad_` without parentheses: names the method, does nothing."""
EXPECT = "without parentheses only names the method"
MISTAKE = "ex01.tracking_not_switched_on"


def enable_tracking(t):
    t.requires_grad_
    return t

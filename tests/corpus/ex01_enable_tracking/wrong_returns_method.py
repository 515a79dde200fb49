"""`return t.requires_grad_`: returns the bound method instead of calling it."""
EXPECT = "returned the method `t.requires_grad_` itself"
MISTAKE = "ex01.returns_the_method"


def enable_tracking(t):
    return t.requires_grad_

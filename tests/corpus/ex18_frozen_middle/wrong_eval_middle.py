"""middle.eval() as if it froze the module: it changes the mode, and middle still gets gradients."""
EXPECT = "eval mode does not freeze anything"
MISTAKE = "ex18.eval_instead_of_freezing"


def forward_frozen_middle(first, middle, last, x):
    middle.eval()
    return last(middle(first(x)))

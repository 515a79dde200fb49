"""first frozen along with middle."""
EXPECT = "`first` got no gradient because forward_frozen_middle froze it as well"
MISTAKE = "ex18.freezes_others"


def forward_frozen_middle(first, middle, last, x):
    for module in (first, middle):
        for p in module.parameters():
            p.requires_grad_(False)
    return last(middle(first(x)))

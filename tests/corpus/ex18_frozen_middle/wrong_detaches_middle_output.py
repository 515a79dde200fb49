"""middle frozen, and its output detached as well: the graph is cut, first gets nothing."""
EXPECT = "`first` got no gradient: the graph is cut at `middle`"
MISTAKE = "ex18.graph_cut"


def forward_frozen_middle(first, middle, last, x):
    middle.requires_grad_(False)
    return last(middle(first(x)).detach())

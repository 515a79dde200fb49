"""middle run under torch.no_grad(): its output has no history, the graph is cut and first gets nothing."""
EXPECT = "the graph is cut at `middle`, not just `middle` frozen"
MISTAKE = "ex18.graph_cut"

import torch


def forward_frozen_middle(first, middle, last, x):
    h = first(x)
    with torch.no_grad():
        h = middle(h)
    return last(h)

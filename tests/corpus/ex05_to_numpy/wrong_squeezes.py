"""Squeezes the array "to drop useless dimensions": a tensor with size-1 dimensions loses them."""
EXPECT = "size-1 dimensions included"
MISTAKE = "ex05.shape_changed"


def to_numpy(t):
    return t.detach().cpu().numpy().squeeze()

"""Switching t's requires_grad off to make numpy() accept it: changes the caller's tensor,
and is refused for a tensor that is not a leaf."""
EXPECT = "refused for a tensor computed from others"
MISTAKE = "ex05.requires_grad_off"


def to_numpy(t):
    return t.requires_grad_(False).numpy()

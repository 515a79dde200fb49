"""return t.detach(): a new tensor without history; the caller's t keeps its graph."""
EXPECT = "cut_history_ returned a new tensor, not t itself"
MISTAKE = "ex07.returns_new_tensor"


def cut_history_(t):
    return t.detach()

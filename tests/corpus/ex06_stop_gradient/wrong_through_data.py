"""t.data: shares memory, but not the version counter: in-place changes are hidden from autograd."""
EXPECT = "which is what `t.data`"
MISTAKE = "ex06.version_not_shared"


def stop_gradient(t):
    return t.data

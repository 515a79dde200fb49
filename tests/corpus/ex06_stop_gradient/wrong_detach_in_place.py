"""t.detach_(): detaches the caller's tensor itself and returns it."""
EXPECT = "detached the caller's tensor in place"
MISTAKE = "ex06.detaches_in_place"


def stop_gradient(t):
    return t.detach_()

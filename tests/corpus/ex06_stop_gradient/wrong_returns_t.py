"""Returning t: still tracked by autograd."""
EXPECT = "stop_gradient returned t itself"


def stop_gradient(t):
    return t

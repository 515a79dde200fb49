"""t.clone().detach(): untracked, but a copy in new memory."""
EXPECT = "stop_gradient returned a copy"
MISTAKE = "ex06.copies"


def stop_gradient(t):
    return t.clone().detach()

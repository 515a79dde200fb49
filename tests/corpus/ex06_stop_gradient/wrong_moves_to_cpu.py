"""Detaches and moves the result to the CPU "to be safe": a tensor on a GPU is copied."""
EXPECT = "The result must stay on t's device"
MISTAKE = "ex06.moved_to_another_device"


def stop_gradient(t):
    return t.detach().cpu()

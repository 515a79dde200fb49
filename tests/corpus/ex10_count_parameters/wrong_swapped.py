"""Returns (total, trainable)."""
EXPECT = "the two numbers are swapped"
MISTAKE = "ex10.swapped"


def count_parameters(model):
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)

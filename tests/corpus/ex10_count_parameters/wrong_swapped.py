"""Returns (total, trainable)."""
EXPECT = "the two numbers are swapped"


def count_parameters(model):
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)

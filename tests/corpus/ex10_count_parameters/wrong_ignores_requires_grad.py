"""trainable == total: the requires_grad flags are never looked at."""
EXPECT = "frozen parameters were counted as trainable"
MISTAKE = "ex10.ignores_requires_grad"


def count_parameters(model):
    total = sum(p.numel() for p in model.parameters())
    return total, total

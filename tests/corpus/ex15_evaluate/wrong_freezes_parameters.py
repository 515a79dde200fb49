"""Freezes the parameters to avoid the graph (and unfreezes all, including the caller's frozen one)."""
EXPECT = "freezing is not how to avoid the graph"
MISTAKE = "ex15.parameters_changed"


def evaluate(model, batches, loss_fn):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    model.requires_grad_(False)
    try:
        total, count = 0.0, 0
        for x, y in batches:
            total += loss_fn(model(x), y).item() * len(x)
            count += len(x)
        return total / count
    finally:
        model.requires_grad_(True)
        for m, was in modes.items():
            m.training = was

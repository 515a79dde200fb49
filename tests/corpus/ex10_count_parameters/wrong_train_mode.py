"""Calls model.train() to "count what trains": trainable is about requires_grad, not the module's mode."""
EXPECT = "changed the model"
MISTAKE = "ex10.model_changed"


def count_parameters(model):
    model.train()
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)

"""Counts the parameters of the model's children (each tensor once): the model's own parameters are left out."""
EXPECT = "Your counts are exactly those of the model's children"
MISTAKE = "ex10.root_parameters_missed"


def count_parameters(model):
    unique = {}
    for child in model.children():
        for p in child.parameters():
            unique[id(p)] = p
    params = list(unique.values())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)

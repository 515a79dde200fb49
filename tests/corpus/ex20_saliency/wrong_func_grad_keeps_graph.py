"""torch.func.grad with tracking on: the gradient it returns still depends on the parameters,
and autograd records that dependence, so the map carries a graph back into the model."""
EXPECT = "still connected to the model's parameters"
NOT_EXPECT = "create_graph"
MISTAKE = "ex20.map_connected_to_parameters"

import torch


def saliency(model, x):
    def score(inputs):
        return model(inputs).max(dim=1).values.sum()

    return torch.func.grad(score)(x.detach()).abs()

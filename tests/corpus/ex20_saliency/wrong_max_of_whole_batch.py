"""The score is the single largest output of the whole batch, not each row's."""
EXPECT = "only one row of the saliency map is nonzero"
MISTAKE = "ex20.max_of_whole_batch"

import torch


def saliency(model, x):
    inputs = x.detach().requires_grad_()
    with torch.enable_grad():
        score = model(inputs).max()
        (grad,) = torch.autograd.grad(score, inputs)
    return grad.abs()

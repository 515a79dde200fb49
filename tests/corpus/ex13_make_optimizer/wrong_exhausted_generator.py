"""A generator counted first, then handed to Adam: it is used up, Adam gets nothing."""
EXPECT = "it was used up"
MISTAKE = "ex13.exhausted_generator"

import torch


def make_optimizer(model, lr):
    trainable = (p for p in model.parameters() if p.requires_grad)
    n = sum(1 for _ in trainable)
    print(f"training {n} parameter tensors")
    return torch.optim.Adam(trainable, lr=lr)

"""Rebuilds the loss from its value as a new tensor that requires grad: it has no history."""
EXPECT = "it is a new tensor, made from the loss's value"
MISTAKE = "ex17.loss_rebuilt"
NOT_EXPECT = "does not require grad (requires_grad=False"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.no_grad():
        features = encoder(x)
    loss = loss_fn(decoder(features), target)
    return torch.tensor(loss.item(), requires_grad=True)

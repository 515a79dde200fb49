"""Returning loss.item(): a float for logging, with no graph to call backward on."""
EXPECT = "throws away the graph"
MISTAKE = "ex17.returns_number"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.no_grad():
        features = encoder(x)
    return loss_fn(decoder(features), target).item()

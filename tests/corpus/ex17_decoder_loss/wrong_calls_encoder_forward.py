"""Runs encoder.forward(x) under no_grad: the hooks registered on the encoder are skipped."""
EXPECT = "calling `encoder.forward(...)` runs the layers but skips the hooks"
MISTAKE = "ex17.forward_skips_hooks"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.no_grad():
        features = encoder.forward(x)
    return loss_fn(decoder(features), target)

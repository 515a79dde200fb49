"""torch.set_grad_enabled(False) as a context manager around the encoder: restored when the block ends."""
import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.set_grad_enabled(False):
        features = encoder(x)
    return loss_fn(decoder(features), target)

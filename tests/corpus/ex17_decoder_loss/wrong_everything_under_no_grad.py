"""The whole computation under no_grad: nothing is recorded, the decoder can't learn."""
EXPECT = "Nothing at all was recorded while decoder_loss ran"
MISTAKE = "ex17.everything_under_no_grad"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.no_grad():
        return loss_fn(decoder(encoder(x)), target)

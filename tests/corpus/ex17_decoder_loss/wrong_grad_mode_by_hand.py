"""Switching grad mode off and on by hand: an exception in the encoder skips the switch back."""
EXPECT = "when the encoder raised an error, decoder_loss left gradient tracking switched off"
MISTAKE = "ex17.grad_mode_not_restored_on_error"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    torch.set_grad_enabled(False)
    features = encoder(x)
    torch.set_grad_enabled(True)
    return loss_fn(decoder(features), target)

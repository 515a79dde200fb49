"""Detaches out of place: a new tensor, the caller's x untouched whatever the encoder returns."""


def decoder_loss(encoder, decoder, x, target, loss_fn):
    features = encoder(x).detach()
    return loss_fn(decoder(features), target)

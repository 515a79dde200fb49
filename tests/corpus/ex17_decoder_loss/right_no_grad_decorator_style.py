"""The encoder call wrapped by torch.no_grad() used as a function decorator."""
import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    encode = torch.no_grad()(encoder)
    return loss_fn(decoder(encode(x)), target)

"""Detaching the loss: it has no history, and loss.backward() raises."""
EXPECT = "and then cut off: a `.detach()` on the decoder's output or on the loss"
MISTAKE = "ex17.detaches_loss"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(encoder(x)), target).detach()

"""Detaches the encoder's output in place: where the encoder gives x itself back, that
detaches the caller's x (and a view of x refuses it)."""
EXPECT = "decoder_loss changed the caller's x"
MISTAKE = "ex17.callers_x_changed"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    features = encoder(x)
    features.detach_()
    return loss_fn(decoder(features), target)

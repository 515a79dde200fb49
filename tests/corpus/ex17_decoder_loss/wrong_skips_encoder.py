"""The decoder run on x itself: the encoder is skipped (its features are never computed)."""
EXPECT = "The decoder reads the encoder's output, not `x`"
MISTAKE = "ex17.skips_encoder"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(x), target)

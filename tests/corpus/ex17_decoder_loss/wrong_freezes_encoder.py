"""Freezing the encoder's parameters: stops the gradient, but changes the caller's encoder for good."""
EXPECT = "decoder_loss froze the caller's encoder"
MISTAKE = "ex17.freezes_encoder"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    encoder.requires_grad_(False)
    return loss_fn(decoder(encoder(x)), target)

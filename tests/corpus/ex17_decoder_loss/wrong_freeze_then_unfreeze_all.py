"""Freezing the encoder for the forward and switching every flag back on afterwards:
parameters the caller had frozen on purpose end up trainable."""
EXPECT = "unfroze parameters the caller had frozen on purpose"
MISTAKE = "ex17.unfreezes_encoder"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    encoder.requires_grad_(False)
    features = encoder(x)
    encoder.requires_grad_(True)
    return loss_fn(decoder(features), target)

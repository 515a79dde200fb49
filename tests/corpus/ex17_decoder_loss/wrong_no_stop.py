"""No stop at all: backward sends gradients into the pretrained encoder."""
EXPECT = "gradients reached the pretrained encoder"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(encoder(x)), target)

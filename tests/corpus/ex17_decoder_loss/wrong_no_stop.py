"""No stop at all: backward sends gradients into the pretrained encoder."""
EXPECT = "gradients reached the pretrained encoder"
MISTAKE = "ex17.no_stop"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(encoder(x)), target)

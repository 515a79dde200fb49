"""Detaching x instead of the encoder's output: x had no history anyway, the encoder still gets gradients."""
EXPECT = "gradients reached the pretrained encoder"
MISTAKE = "ex17.no_stop"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(encoder(x.detach())), target)

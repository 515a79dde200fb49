"""Detaching the decoder's output instead of the encoder's: the decoder is cut off too."""
EXPECT = "element 0 of tensors does not require grad"
MISTAKE = "ex17.detaches_loss"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    return loss_fn(decoder(encoder(x)).detach(), target)

"""encoder.eval() as if it froze the encoder: it changes the mode, not autograd."""
EXPECT = "Switching the encoder to eval mode does not stop gradients"
MISTAKE = "ex17.eval_instead_of_stop"


def decoder_loss(encoder, decoder, x, target, loss_fn):
    encoder.eval()
    return loss_fn(decoder(encoder(x)), target)

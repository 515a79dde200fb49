"""encoder(x).detach(): the encoder's graph is built and thrown away, but no gradient gets through."""


def decoder_loss(encoder, decoder, x, target, loss_fn):
    features = encoder(x).detach()
    output = decoder(features)
    return loss_fn(output, target)

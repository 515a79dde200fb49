"""torch.inference_mode() around the encoder: the decoder's first layer cannot save an inference tensor."""
EXPECT = "an inference tensor can't go into a decoder that learns"
MISTAKE = "ex17.inference_mode_encoder"

import torch


def decoder_loss(encoder, decoder, x, target, loss_fn):
    with torch.inference_mode():
        features = encoder(x)
    return loss_fn(decoder(features), target)

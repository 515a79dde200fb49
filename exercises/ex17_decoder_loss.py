"""Exercise 17 — training a decoder on a frozen encoder: stop the gradient at the boundary

A common pattern: an *encoder* was trained before (pretrained), and now a new *decoder*
learns on top of its features. The loss is computed through both,

    loss = loss_fn(decoder(encoder(x)), target)

but only the decoder may learn. When `loss.backward()` runs, autograd walks the graph back
from the loss and fills `.grad` of every parameter it meets on the way. To keep the
encoder out of it, the graph must END at the encoder's output: the decoder's input has to
be a tensor without history.

    with torch.no_grad():      # nothing recorded inside: features has no history
        features = encoder(x)
    out = decoder(features)    # recorded as usual: the decoder's parameters require grad
    loss = loss_fn(out, target)

`encoder(x).detach()` gives the same kind of tensor (the encoder's graph is built and then
thrown away, which costs memory for nothing, but no gradient gets through).

    >>> encoder, decoder = nn.Linear(4, 3), nn.Linear(3, 2)
    >>> loss = decoder_loss(encoder, decoder, torch.randn(5, 4), torch.randn(5, 2), nn.MSELoss())
    >>> loss.backward()
    >>> decoder.weight.grad is None, encoder.weight.grad is None
    (False, True)
    >>> encoder.weight.requires_grad                        # untouched
    True

Where you put the stop is the whole exercise:

    encoder.requires_grad_(False)     # WRONG: stops the gradient, but changes the caller's
                                      # encoder for good: a later fine-tuning run finds it
                                      # frozen (and switching everything back on afterwards
                                      # unfreezes parameters the caller had frozen on purpose)
    loss_fn(decoder(encoder(x)), target).detach()
                                      # WRONG: stops too late, the loss itself has no history:
                                      # loss.backward() raises "element 0 of tensors does not
                                      # require grad and does not have a grad_fn"
    loss_fn(decoder(encoder(x)).detach(), target)
                                      # WRONG for the same reason: the decoder is cut off too
    with torch.no_grad():             # WRONG: the whole computation unrecorded, same error
        loss = loss_fn(decoder(encoder(x)), target)
    loss_fn(decoder(encoder(x)), target)
                                      # WRONG: no stop, the encoder gets gradients and an
                                      # optimizer over all parameters would change it
    encoder.eval()                    # WRONG: eval mode changes how dropout and batch-norm
                                      # compute; it does not stop gradients at all

And `torch.inference_mode()` around the encoder does not work here, although it usually can
replace `torch.no_grad()`: its output is an "inference tensor", which autograd refuses to
save, and the decoder's first layer must save its input to compute its weight's gradient
("RuntimeError: Inference tensors cannot be saved for backward").

Your task: implement `decoder_loss(encoder, decoder, x, target, loss_fn)`.
- Return the scalar loss `loss_fn(decoder(encoder(x)), target)`, as a tensor that requires
  grad (the caller calls `loss.backward()` on it).
- After that backward, every trainable parameter of the decoder has a gradient, and no
  parameter of the encoder has one.
- Don't change anything of the caller's: the encoder's and decoder's `requires_grad` flags,
  their train/eval modes, the grad mode, and `x` (its values, its `requires_grad` and its
  history). An encoder without parameters can return `x` itself or a view of it (a reshape),
  so never detach the encoder's output in place (`features.detach_()`): that would detach
  the caller's `x`. `detach()` makes a new tensor and leaves `x` alone.
"""

import torch
from torch import Tensor, nn


def decoder_loss(encoder: nn.Module, decoder: nn.Module, x: Tensor, target: Tensor, loss_fn) -> Tensor:
    """The loss of decoder(encoder(x)), with gradients for the decoder only."""
    raise NotImplementedError

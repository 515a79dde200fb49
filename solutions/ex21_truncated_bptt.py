"""Exercise 21 — truncated backpropagation through time: detach() between chunks

A recurrent cell reads a sequence one step at a time and carries a hidden state `h` from
step to step:

    h = h0
    for t in range(T):
        h = cell(xs[t], h)          # the new state depends on the input AND the old state
        prediction = readout(h)     # what the model says at step t

Autograd records every step, and each `h` points back, through the cell, to the `h` before
it. A backward from a loss at step t therefore travels back through ALL the earlier steps:
for a long sequence that is slow, needs the memory of every step at once, and the
gradients through hundreds of steps tend to vanish or explode.

Truncated backpropagation through time (TBPTT) cuts the sequence into chunks of `k` steps
(the last chunk may be shorter) and trains on one chunk at a time:

    for each chunk:
        run the cell over the chunk's k steps, collecting the loss at every step
        loss = the mean of those step losses
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        keep the final h for the next chunk, but CUT it from the graph: h = h.detach()

The hidden state still carries the *information* from chunk to chunk (the next chunk starts
from where the last one ended, not from h0 again), but the gradient stops at the chunk
boundary: each backward goes back at most k steps.

    >>> h = torch.zeros(1, 2, requires_grad=True) * 1.0   # a state with a history
    >>> h.grad_fn is None, h.detach().grad_fn is None
    (False, True)

`h.detach()` is a new tensor with the same values and no history: everything computed from
it starts a fresh graph.

The typical mistakes:

- No detach. The first chunk's backward frees that chunk's graph (the tensors it saved are
  released). The second chunk's `h` still points into it, so its backward tries to go
  through it again and fails:

      RuntimeError: Trying to backward through the graph a second time ...

- `loss.backward(retain_graph=True)` to silence that error. Now the graph is kept and every
  backward runs through the WHOLE history again (this is no longer truncated), and it
  fails anyway: `optimizer.step()` changed the weights in place after the old chunks saved
  them, so autograd reports "one of the variables needed for gradient computation has been
  modified by an inplace operation". The fix is the detach, not keeping the graph.

- Restarting from `h0` at every chunk. No error, but the model never learns to use what it
  saw in earlier chunks: the state must carry over, only its history is cut.

- Forgetting `optimizer.zero_grad()`: backward ADDS into `.grad`, so each step would also
  use the gradients of all the earlier chunks again.

Your task: implement `train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer)`.
- `xs` has shape `(T, batch, features)`, `ys[t]` is the target of step t. Walk the sequence
  with `h = cell(xs[t], h)`, starting from `h0`, in chunks of `k` steps (the last chunk may
  be shorter; if `k >= T` there is one chunk).
- Per chunk: loss = mean over the chunk's steps of `loss_fn(readout(h), ys[t])` (one call
  of `loss_fn` per step: it may be any loss, not only a mean over elements, so one call on
  the chunk's stacked outputs is not the same thing); then
  `loss.backward()`, `optimizer.step()`, `optimizer.zero_grad()` (use the optimizer you are
  given: it holds the parameters and the learning rate); then the hidden state carries into
  the next chunk detached from the old graph. Afterwards no parameter holds a gradient.
- Return the list of chunk losses as Python floats (`loss.item()`), one per chunk.
- Leave the caller's `h0` as it is (don't modify it in place, don't detach it in place), and
  leave the grad mode and the modules' train/eval modes as they were.
"""

import torch
from torch import Tensor, nn


def train_truncated_bptt(
    cell: nn.Module,
    readout: nn.Module,
    xs: Tensor,
    ys: Tensor,
    h0: Tensor,
    k: int,
    loss_fn,
    optimizer: torch.optim.Optimizer,
) -> list[float]:
    """Train over the sequence in chunks of k steps; return each chunk's mean loss as a float."""
    losses = []
    h = h0
    steps = xs.shape[0]
    for start in range(0, steps, k):
        h = h.detach()  # keep the values, cut the history: backward stops at this chunk's start
        chunk = range(start, min(start + k, steps))
        total = 0.0
        for t in chunk:
            h = cell(xs[t], h)
            total = total + loss_fn(readout(h), ys[t])
        loss = total / len(chunk)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

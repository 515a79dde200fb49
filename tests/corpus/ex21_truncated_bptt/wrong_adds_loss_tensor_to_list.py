"""`losses += loss` to record a chunk's loss: `+=` on a list goes through the right-hand side
element by element, and a 0-d tensor (the loss) cannot be iterated."""
EXPECT = "A 0-d tensor (a single number, such as a loss) cannot be gone through"
MISTAKE = "any.iterating_a_0d_tensor"

import torch


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    steps = xs.shape[0]
    h = h0
    losses = []
    for start in range(0, steps, k):
        h = h.detach()
        step_losses = []
        for t in range(start, min(start + k, steps)):
            h = cell(xs[t], h)
            step_losses.append(loss_fn(readout(h), ys[t]))
        loss = torch.stack(step_losses).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses += loss.detach()
    return [float(v) for v in losses]

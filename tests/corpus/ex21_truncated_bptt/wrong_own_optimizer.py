"""A new optimizer made inside, with a learning rate of its own: the given one never steps."""
EXPECT = "use the optimizer passed in"
MISTAKE = "ex21.steps_per_chunk"

import torch


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    own = torch.optim.SGD([*cell.parameters(), *readout.parameters()], lr=0.01)
    losses, h = [], h0
    for start in range(0, len(xs), k):
        h = h.detach()
        steps = range(start, min(start + k, len(xs)))
        loss = 0
        for t in steps:
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss = loss / len(steps)
        loss.backward()
        own.step()
        own.zero_grad()
        losses.append(loss.item())
    return losses

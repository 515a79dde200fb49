"""Detaches at the end of each chunk instead of its start; step losses stacked, then averaged."""
import torch


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h, T, start = [], h0, xs.shape[0], 0
    while start < T:
        end = min(start + k, T)
        step_losses = []
        for t in range(start, end):
            h = cell(xs[t], h)
            step_losses.append(loss_fn(readout(h), ys[t]))
        loss = torch.stack(step_losses).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        losses.append(float(loss))
        h = h.detach()
        start = end
    return losses

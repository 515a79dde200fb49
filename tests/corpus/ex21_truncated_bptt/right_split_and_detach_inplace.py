"""torch.split into chunks; the carried state (the cell's own output, never h0) detached in place."""
import torch


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses = []
    h = h0.detach()
    for x_chunk, y_chunk in zip(torch.split(xs, k), torch.split(ys, k)):
        step_losses = []
        for x_t, y_t in zip(x_chunk, y_chunk):
            h = cell(x_t, h)
            step_losses.append(loss_fn(readout(h), y_t))
        loss = torch.stack(step_losses).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        h.detach_()
    return losses

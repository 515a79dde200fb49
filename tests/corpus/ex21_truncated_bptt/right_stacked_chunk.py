"""The chunk's outputs stacked and compared in one loss_fn call (a mean loss: same as the mean of the step means);
detach at the end of the chunk instead of its start."""
import torch


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses = []
    h = h0
    T = xs.shape[0]
    start = 0
    while start < T:
        end = min(start + k, T)
        outputs = []
        for t in range(start, end):
            h = cell(xs[t], h)
            outputs.append(readout(h))
        loss = loss_fn(torch.stack(outputs), ys[start:end])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        losses.append(float(loss))
        h = h.detach()
        start = end
    return losses

"""The chunk's outputs stacked and compared in one loss_fn call: the same as the mean of the step
losses for a loss that is a mean over elements (MSE), not for any other loss."""
EXPECT = "one call of loss_fn on the chunk's stacked outputs and targets"
MISTAKE = "ex21.one_call_on_stacked_chunk"
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

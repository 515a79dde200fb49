"""The chunk loss sums the step losses instead of averaging them."""
EXPECT = "the sum of its step losses instead of their mean"
MISTAKE = "ex21.sum_not_mean"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        h = h.detach()
        loss = 0
        for t in range(start, min(start + k, len(xs))):
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

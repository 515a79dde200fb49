"""No optimizer.zero_grad(): each step also reuses the gradients of all earlier chunks."""
EXPECT = "the gradients accumulated across chunks"
MISTAKE = "ex21.no_zero_grad"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
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
        optimizer.step()
        losses.append(loss.item())
    return losses

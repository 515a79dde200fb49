"""Chunks that overlap by one step (end index k + 1): a step is trained twice, losses differ."""
EXPECT = "differ from the reference run"
MISTAKE = "ex21.differs_from_reference"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        h = h.detach()
        steps = range(start, min(start + k + 1, len(xs)))
        loss = 0
        for t in steps:
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss = loss / len(steps)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

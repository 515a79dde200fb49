"""No detach between chunks: the second chunk's backward goes into the freed graph of the first."""
EXPECT = "still points into that chunk's graph"
MISTAKE = "ex21.no_detach"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        steps = range(start, min(start + k, len(xs)))
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

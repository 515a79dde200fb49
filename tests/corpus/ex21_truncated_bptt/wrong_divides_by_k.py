"""Dividing every chunk's loss by k: wrong for a shorter last chunk."""
EXPECT = "the last chunk can be shorter than k"
MISTAKE = "ex21.divides_by_k"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        h = h.detach()
        loss = 0
        for t in range(start, min(start + k, len(xs))):
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss = loss / k
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

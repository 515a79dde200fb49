"""The chunk losses are returned as tensors (each keeps its chunk's graph alive)."""
EXPECT = "a plain Python float is expected"
MISTAKE = "any.tensor_not_number"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        h = h.detach()
        steps = range(start, min(start + k, len(xs)))
        loss = sum(loss_fn(readout(h := cell(xs[t], h)), ys[t]) for t in steps) / len(steps)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss)
    return losses

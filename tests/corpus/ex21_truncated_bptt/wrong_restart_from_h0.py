"""Every chunk starts again from h0: no error, but the state never carries over."""
EXPECT = "the hidden state restarted from h0 at every chunk"
MISTAKE = "ex21.restart_from_h0"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses = []
    for start in range(0, len(xs), k):
        h = h0
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

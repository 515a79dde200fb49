"""cell.train() / readout.train() at the start, as training loops often do: the caller's eval mode is lost."""
EXPECT = "changed the modules' modes"
MISTAKE = "ex21.modes_changed"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    cell.train()
    readout.train()
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
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

"""retain_graph=True instead of detach: backward runs into old chunks whose saved weights the optimizer changed."""
EXPECT = "Keeping the graph is not the fix"
MISTAKE = "ex21.retain_graph"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs), k):
        steps = range(start, min(start + k, len(xs)))
        loss = 0
        for t in steps:
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss = loss / len(steps)
        loss.backward(retain_graph=True)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

"""zero_grad() between backward and step: the step sees no gradient, nothing is learned."""
EXPECT = "the parameters did not change at all"
MISTAKE = "ex21.parameters_unchanged"


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
        optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses

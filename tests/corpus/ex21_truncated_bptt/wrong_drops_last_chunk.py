"""Only full chunks: the shorter last chunk is skipped."""
EXPECT = "the last chunk may be shorter than k"
MISTAKE = "ex21.wrong_chunk_count"


def train_truncated_bptt(cell, readout, xs, ys, h0, k, loss_fn, optimizer):
    losses, h = [], h0
    for start in range(0, len(xs) - k + 1, k):
        h = h.detach()
        loss = 0
        for t in range(start, start + k):
            h = cell(xs[t], h)
            loss = loss + loss_fn(readout(h), ys[t])
        loss = loss / k
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses

"""torch.inference_mode() and a count divided by the number of rows."""
import torch


def accuracy(model, x, y):
    with torch.inference_mode():
        hits = model(x).argmax(dim=1).eq(y).sum().item()
    return hits / len(y)

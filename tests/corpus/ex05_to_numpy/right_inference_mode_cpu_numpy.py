"""Inside torch.inference_mode() (or no_grad), numpy() accepts a tensor that requires grad; cpu() moves it."""
import torch


def to_numpy(t):
    with torch.inference_mode():
        return t.cpu().numpy()

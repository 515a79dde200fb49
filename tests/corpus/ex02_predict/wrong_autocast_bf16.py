"""Runs the model under bfloat16 autocast "to save memory": the output comes in another precision."""
EXPECT = "predict returned a torch.bfloat16 tensor where model(x) is torch.float32"
MISTAKE = "ex02.dtype_changed"
NOT_EXPECT = "switching the mode does"

import torch


def predict(model, x):
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x)

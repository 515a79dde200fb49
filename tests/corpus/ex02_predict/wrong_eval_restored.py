"""eval() and the mode carefully restored: still not what model(x) gives the caller in train mode."""
EXPECT = "differs from model(x) for a model in train mode"
MISTAKE = "ex02.output_in_another_mode"

import torch


def predict(model, x):
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        for m, training in modes.items():
            m.training = training

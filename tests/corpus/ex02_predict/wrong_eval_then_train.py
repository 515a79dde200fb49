"""eval() then always train() afterwards: breaks a caller whose model was in eval mode."""
EXPECT = "was in eval mode and is now in train mode"
MISTAKE = "ex02.model_mode_changed"

import torch


def predict(model, x):
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train()
    return out

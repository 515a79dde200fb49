"""Integer division of the count by the number of rows: 0 unless every row is right."""
EXPECT = "integer division"
MISTAKE = "ex04.returns_an_int"

import torch


def accuracy(model, x, y):
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).sum().item()
    return correct // len(y)

"""Prepares a gradient of zeros "for backward to add into": the caller's tensor gets a .grad it never had."""
EXPECT = "gave `t` a `.grad` it did not have"
MISTAKE = "ex01.grad_prefilled"

import torch


def enable_tracking(t):
    t.requires_grad_()
    if t.grad is None:
        t.grad = torch.zeros_like(t)
    return t

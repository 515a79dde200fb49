"""The blend computed out of place, then copied in with copy_, under inference_mode."""
import torch


def soft_update(target, source, tau):
    with torch.inference_mode():
        for p_t, p_s in zip(target.parameters(), source.parameters()):
            p_t.copy_((1 - tau) * p_t + tau * p_s)

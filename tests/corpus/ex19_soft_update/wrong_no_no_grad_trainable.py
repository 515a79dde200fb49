"""In-place lerp_ outside no_grad: RuntimeError for a target whose parameters require grad."""
EXPECT = "Blend inside `with torch.no_grad():`"
MISTAKE = "ex19.no_no_grad_trainable"


def soft_update(target, source, tau):
    for p_t, p_s in zip(target.parameters(), source.parameters()):
        if p_t.requires_grad:
            p_t.lerp_(p_s, tau)
        else:
            p_t.lerp_(p_s.detach(), tau)

"""cpu() before detach(): on a GPU the copy is recorded by autograd for nothing, but the result is right."""


def to_numpy(t):
    return t.cpu().detach().numpy()

"""to("cpu") instead of cpu()."""


def to_numpy(t):
    return t.detach().to("cpu").numpy()

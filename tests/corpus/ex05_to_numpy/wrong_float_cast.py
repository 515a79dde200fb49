"""Casting to float32 "to be safe": int64, bool, float16 and float64 tensors change dtype."""
EXPECT = "a cast (`.float()`, `.astype(...)`) changes the dtype"
MISTAKE = "ex05.dtype_changed"


def to_numpy(t):
    return t.detach().cpu().float().numpy()

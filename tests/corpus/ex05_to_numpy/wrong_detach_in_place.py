"""t.detach_(): converts fine, but detaches the caller's tensor itself."""
EXPECT = "to_numpy changed the caller's tensor"
MISTAKE = "ex05.caller_tensor_changed"


def to_numpy(t):
    return t.detach_().cpu().numpy()

"""load_state_dict: copies the source (parameters AND buffers) instead of blending."""
EXPECT = "copied the source's values instead of blending them"
MISTAKE = "ex19.copies_source"


def soft_update(target, source, tau):
    target.load_state_dict(source.state_dict())

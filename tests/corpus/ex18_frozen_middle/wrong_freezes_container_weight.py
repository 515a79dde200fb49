"""Freezing `middle.weight` as if middle were one Linear layer: middle is a container
(an nn.Sequential), which has no weight of its own."""
EXPECT = "has no `.weight` of its own"
MISTAKE = "ex18.container_weight"


def forward_frozen_middle(first, middle, last, x):
    middle.weight.requires_grad_(False)
    middle.bias.requires_grad_(False)
    return last(middle(first(x)))

"""The maintainers' tools: `python -m grading.dev` (`grading.dev.commands`), the generators it runs,
mutation testing."""

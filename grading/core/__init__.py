"""The kata's model and vocabulary: the catalog, the results model, the gradebook model, the
settings, the integrity manifest, atomic writes, the stubs and the mistake ids. It imports nothing
of the engine (only `grading` itself)."""

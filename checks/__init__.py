"""The kata's checks: one pytest file per exercise, run against any target with `--target`."""

"""`python -m grading.dev`: the maintainers' commands (see `grading.dev.commands`)."""

import sys

from grading.dev.commands import main

sys.exit(main())

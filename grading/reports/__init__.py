"""Pure renderings of results: the text report and its style, JSON, Gradescope, JUnit, markdown
and escaping, the class page."""

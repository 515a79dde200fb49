"""Grading a class: batches of submissions (and on a cluster), the exports, the GitHub Classroom
workflow, the Gradescope bundle."""

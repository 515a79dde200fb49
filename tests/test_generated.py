"""One helper serves every generator's `main()` (the README's learning path, the Classroom workflow,
docs/mistakes.md): `--check` reports a file out of step without writing it; otherwise the file is
written, only when it differs."""

from __future__ import annotations

from grading.core.generated import write_or_check


def test_check_reports_a_missing_or_stale_file_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "docs" / "made.md"
    assert write_or_check(path, "new\n", ["--check"], stale="made.md is stale: run it", wrote="wrote it") == 1
    assert capsys.readouterr().err == "made.md is stale: run it\n"
    assert not path.parent.exists()
    path.parent.mkdir()
    path.write_text("old\n", encoding="utf-8")
    assert write_or_check(path, "new\n", ["--check"], stale="made.md is stale: run it", wrote="wrote it") == 1
    assert path.read_text(encoding="utf-8") == "old\n"


def test_writing_makes_the_folder_and_says_so_only_when_something_changed(tmp_path, capsys):
    path = tmp_path / "docs" / "made.md"
    assert write_or_check(path, "new\n", [], stale="stale", wrote="wrote made.md") == 0
    assert path.read_text(encoding="utf-8") == "new\n"
    assert capsys.readouterr().out == "wrote made.md\n"
    assert write_or_check(path, "new\n", [], stale="stale", wrote="wrote made.md") == 0
    assert capsys.readouterr().out == ""
    assert write_or_check(path, "new\n", ["--check"], stale="stale", wrote="wrote made.md") == 0
    assert capsys.readouterr().err == ""

"""Progress: one line per task in logs, nothing when silenced, bars only where someone watches."""

from memo_utils import progress


def test_logs_get_one_line_when_a_task_starts_and_one_when_it_ends(capsys, monkeypatch):
    monkeypatch.delenv("MEMO_PROGRESS", raising=False)
    assert progress.mode() == "lines"  # pytest's stderr is not a terminal
    with progress.task("easy_examples/cnn"):
        bar = progress.bar(10, "epochs")
        bar.update()
        bar.close()
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "easy_examples/cnn: computing" and err[1].startswith("easy_examples/cnn: done in ")
    assert len(err) == 2


def test_memo_progress_off_silences_everything(capsys, monkeypatch):
    monkeypatch.setenv("MEMO_PROGRESS", "off")
    with progress.task("x"):
        progress.bar(3, "steps").update()
    assert capsys.readouterr().err == ""

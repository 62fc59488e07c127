"""pipeline.progress: a bar that keeps moving through steps that report nothing themselves."""
import time

from pipeline import progress


def test_ticking_redraws_while_the_step_reports_nothing(capsys, monkeypatch):
    monkeypatch.setattr(progress, "TICK", 0.05)
    with progress.ticking(True, "  mnist pixels: predictions, k-NN graph") as step:
        time.sleep(0.6)  # a step with no count of its own (Annoy's graph build)
        quiet = capsys.readouterr().err
        step(3, 10)
        counted = capsys.readouterr().err
    # redrawn about every TICK: at least half of the 12 ticks reached the terminal
    assert quiet.count("\r") >= 6 and "mnist pixels" in quiet
    assert "3/10" in counted
    time.sleep(0.2)
    after = capsys.readouterr().err
    time.sleep(0.2)
    assert capsys.readouterr().err == "" and after.count("mnist pixels") <= 1  # the ticking stopped with the block


def test_ticking_off_draws_nothing(capsys):
    with progress.ticking(False, "x") as step:
        time.sleep(0.1)
    assert step is None and capsys.readouterr().err == ""

"""Process checks (psutil): the store's sweep of temp folders and the explorer's progress.json pid.

A zombie has ended (only its parent has not reaped it yet): both checks count it as gone, so a
killed pipeline's temp folder is swept and its progress is not shown while its parent lingers.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import psutil
import pytest

from core.store import ArtifactStore, _pid_alive, write_json_atomic
from explorer.store import ExplorerStore, pid_alive


@contextlib.contextmanager
def zombie():
    """The pid of a child that has exited and is not reaped until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:  # wait for the condition
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.02)
        yield proc.pid
    finally:
        proc.wait()


def _ended_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid names no process (until the kernel reuses it)
    return proc.pid


@pytest.mark.parametrize("alive", [_pid_alive, pid_alive], ids=["core", "explorer"])
def test_running_ended_and_zombie_processes(alive):
    assert alive(os.getpid())
    assert alive(1)  # init: another user's process still counts as running
    assert not alive(2**22 + 12345)  # above Linux's pid_max
    with zombie() as pid:
        assert not alive(pid)


@pytest.mark.parametrize("pid", [0, -3, 2**40, True, "123", None])
def test_explorer_refuses_what_is_not_a_pid(pid):
    assert not pid_alive(pid)


def test_sweep_removes_temp_folders_of_zombies_and_keeps_the_living(tmp_path):
    store = ArtifactStore(tmp_path)
    parent = tmp_path / "mnist" / "model"
    with zombie() as pid:
        dead, living = parent / f".tmp-k-{pid}-abc", parent / f".tmp-j-{os.getpid()}-abc"
        dead.mkdir(parents=True)
        living.mkdir()
        with store.writing("mnist", "model", "k", {}):
            pass
        assert not dead.exists() and living.exists()


def test_explorer_shows_no_progress_of_a_zombie_pipeline(tmp_path):
    from synthetic.cache import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=120, seed=1)
    store = ExplorerStore(ArtifactStore(tmp_path))
    progress = {"pid": os.getpid(), "updated": time.time(), "datasets": {"mnist": {"stage": "ready", "detail": ""}}}
    write_json_atomic(tmp_path / "progress.json", progress)
    assert store.progress() == progress
    with zombie() as pid:
        write_json_atomic(tmp_path / "progress.json", {**progress, "pid": pid})
        assert store.progress() is None

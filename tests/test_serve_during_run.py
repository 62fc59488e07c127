"""`pipeline all` serves the first finished dataset while the second is prepared, and the
explorer reading while the pipeline writes never serves a half-written artifact."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT, TINY

pytestmark = pytest.mark.slow  # real training; runners that import TensorFlow, stopped by signals


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_first_dataset_is_served_while_the_second_trains(tiny_cache, real_data_dir):
    port = free_port()
    cache = tiny_cache  # MNIST's tiny run is done (the session's, copied): Fashion-MNIST's is all to do
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "all", "--cache-dir", str(cache),
                             "--data-dir", str(real_data_dir), "--port", str(port), *TINY,
                             "--dataset", "mnist,fashion-mnist"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served_over_time: list[tuple[str, ...]] = []
    bad: list[str] = []
    progress_seen = False
    try:
        deadline = time.time() + 600
        while time.time() < deadline:
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            try:
                status, body = get(port, "/api/status")
            except OSError:
                time.sleep(0.2)  # not serving yet
                continue
            assert status == 200, body[:500]
            info = json.loads(body)
            names = tuple(info["datasets"])
            progress_seen |= bool(info.get("progress"))
            if not served_over_time or served_over_time[-1] != names:
                served_over_time.append(names)
            for name in names:
                # Whatever is listed must be whole: every row's labels and an image answer.
                s, b = get(port, f"/api/points/{name}.json")
                if s != 200 or len(json.loads(b)["labels"]) != info["sizes"][name]["n"]:
                    bad.append(f"/api/points/{name}.json -> {s}")
                s, b = get(port, f"/thumb/{name}/{info['sizes'][name]['n'] - 1}.png")
                if s != 200 or not b.startswith(b"\x89PNG"):
                    bad.append(f"/thumb/{name} -> {s}")
                if b"Traceback" in b:
                    bad.append(f"traceback from {name}")
            if len(names) == 2:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert bad == []
    assert served_over_time[0] == ("mnist",), served_over_time  # explorable before the second is done
    assert set(served_over_time[-1]) == {"mnist", "fashion-mnist"}
    assert progress_seen  # the page could tell the user what is still being prepared


def _children(pid: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # a zombie has ended
    except psutil.Error:
        return False


def _port_frees(port: int, within: float) -> bool:
    """Whether a server could bind ``port`` (as waitress does, SO_REUSEADDR) within ``within`` seconds;
    the kernel releases a killed process's listening socket a moment after the process is gone."""
    deadline = time.time() + within
    while True:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return True
            except OSError:
                if time.time() > deadline:
                    return False
        time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGKILL],
                         ids=lambda s: s.name)
def test_stopping_the_runner_stops_the_explorer_it_started(sig, tiny_cache, real_data_dir):
    port = free_port()
    # a finished cache (the session's tiny run, copied): the runner goes straight to serving it
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "all", "--cache-dir", str(tiny_cache),
                             "--data-dir", str(real_data_dir), "--port", str(port), *TINY],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while True:
            assert proc.poll() is None and time.time() < deadline, "the explorer never answered"
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        children = _children(proc.pid)
        assert children, "the explorer runs in a child process"
        proc.send_signal(sig)
        proc.wait(30)
        deadline = time.time() + 20
        while any(_alive(c) for c in children) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), f"the explorer outlived its runner ({sig.name})"
        assert _port_frees(port, within=15), f"port {port} still taken after the runner got {sig.name}"
    finally:
        for pid in _children(proc.pid) if proc.poll() is None else []:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()

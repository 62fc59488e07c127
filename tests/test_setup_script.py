"""scripts/setup.sh picks TensorFlow's build for the machine: the CPU one, or with CUDA where nvidia-smi
lists a GPU (issue 23: a machine with a GPU uses it without flags).  Run on a copy with a stand-in
``.venv/bin/python`` that records what pip was asked, and a stand-in ``nvidia-smi``."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checkout(tmp_path: Path, gpu: str | None) -> tuple[Path, dict]:
    """A copy of setup.sh and requirements.txt, a recording python, and ``nvidia-smi`` printing ``gpu``."""
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/pip.log\nexit 0\n')
    tools = tmp_path / "tools"
    tools.mkdir()
    if gpu is not None:
        (tools / "nvidia-smi").write_text(f'#!/bin/sh\nprintf "%s\\n" "{gpu}"\n')
    for f in (venv / "python", *tools.iterdir()):
        f.chmod(0o755)
    # the stand-in tools first, then only what the script itself calls (no real nvidia-smi)
    env = {**os.environ, "PATH": f"{tools}:/usr/bin:/bin"}
    env.pop("MNIST_EXPLORER_CPU", None)
    return tmp_path, env


def _run(root: Path, env: dict) -> list[str]:
    subprocess.run(["bash", "scripts/setup.sh"], cwd=root, env=env, check=True, capture_output=True, timeout=60)
    return (root / "pip.log").read_text().splitlines()


@pytest.mark.skipif(shutil.which("nvidia-smi", path="/usr/bin:/bin") is not None,
                    reason="this machine's own nvidia-smi would answer instead of the stand-in")
def test_a_machine_with_a_gpu_gets_tensorflow_with_cuda_and_one_without_the_cpu_build(tmp_path):
    cpu_root, env = _checkout(tmp_path / "cpu", None)
    calls = _run(cpu_root, env)
    assert "-m pip install --quiet -r requirements.txt" in calls
    gpu_root, env = _checkout(tmp_path / "gpu", "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)")
    calls = _run(gpu_root, env)
    assert "-m pip install --quiet -r .venv/requirements-gpu.txt" in calls
    assert "-m pip uninstall --quiet --yes tensorflow-cpu" in calls  # one module under two names
    gpu_reqs = (gpu_root / ".venv" / "requirements-gpu.txt").read_text()
    cpu_reqs = (ROOT / "requirements.txt").read_text()
    version = next(line.split("==")[1] for line in cpu_reqs.splitlines() if line.startswith("tensorflow-cpu=="))
    pins = [line for line in gpu_reqs.splitlines() if not line.startswith("#")]
    assert f"tensorflow[and-cuda]=={version}" in pins and not any("tensorflow-cpu" in p for p in pins)
    # everything else the same, pinned as in requirements.txt
    assert gpu_reqs.replace("tensorflow[and-cuda]==", "tensorflow-cpu==") == cpu_reqs
    # installed once: a second run with nothing changed installs nothing
    (gpu_root / "pip.log").unlink()
    assert not any("install --quiet -r" in c for c in _run(gpu_root, env))
    # MNIST_EXPLORER_CPU=1 keeps the CPU build on that machine (and reinstalls it)
    assert "-m pip install --quiet -r requirements.txt" in _run(gpu_root, {**env, "MNIST_EXPLORER_CPU": "1"})


def test_nvidia_smi_that_lists_no_gpu_keeps_the_cpu_build(tmp_path):
    root, env = _checkout(tmp_path, "No devices were found")
    assert "-m pip install --quiet -r requirements.txt" in _run(root, env)

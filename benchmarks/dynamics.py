"""Which alignment gives the steadiest training-dynamics frames with the least distortion."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.common import Row, timed
from embeddings.dynamics import ALIGNMENTS, DEFAULT_ALIGNMENT, DynamicsConfig, frame_stability, project_frames
from core.store import load_array


def bench_alignments(snapshot_dirs: dict[str, Path]) -> list[Row]:
    """Project each dataset's per-epoch snapshots with every alignment; compare steadiness and trust."""
    rows = []
    for name, folder in snapshot_dirs.items():
        emb = np.asarray(load_array(folder / "embeddings.npy"))
        section = f"training-dynamics alignment, {name} ({emb.shape[0]} epochs x {emb.shape[1]:,} images)"
        for alignment in ALIGNMENTS:
            frames, seconds = timed(project_frames, emb, DynamicsConfig(alignment=alignment))
            stats = frame_stability(frames, emb)
            rows.append(Row(section, alignment, f"displacement {stats['displacement']:.3f}, "
                                                f"trust {stats['trustworthiness']:.4f}, {seconds:.0f} s",
                            note="default" if alignment == DEFAULT_ALIGNMENT else ""))
    return rows

"""``python -m explorer [--cache-dir DIR] [--host H] [--port N] [--debug]``."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.store import CacheError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m explorer", description=__doc__)
    ap.add_argument("--cache-dir", type=Path, default=None, help="cache root (default $MNIST_EXPLORER_CACHE or ./cache)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8050)
    ap.add_argument("--threads", type=int, default=16, help="waitress worker threads")
    ap.add_argument("--debug", action="store_true", help="Dash debug mode on the Flask dev server")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from .server import serve

    try:
        serve(args.cache_dir, host=args.host, port=args.port, debug=args.debug, threads=args.threads)
    except CacheError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

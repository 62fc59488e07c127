"""``python -m explorer [--cache-dir DIR] [--host H] [--port N] [--threads N] [--debug]``."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.errors import ConfigError
from core.options import add_arguments
from core.store import CacheError

from .options import ServeOptions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m explorer", description=__doc__)
    ap.add_argument("--cache-dir", type=Path, default=None, help="cache root (default $MNIST_EXPLORER_CACHE or ./cache)")
    add_arguments(ap, ServeOptions)
    args = vars(ap.parse_args(argv))
    cache_dir = args.pop("cache_dir")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from .server import serve

    try:
        options = ServeOptions(**args)
        serve(cache_dir, host=options.host, port=options.port, debug=options.debug, threads=options.threads)
    except (CacheError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

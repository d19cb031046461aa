"""`e4d-export` (placeholder until the 4D model lands)."""

import sys


def entrypoint() -> None:
    print("e4d-export: not implemented yet in this release.", file=sys.stderr)
    sys.exit(2)

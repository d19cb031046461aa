"""`datagen` command line (placeholder until the subcommands land)."""

import sys


def entrypoint() -> None:
    print("datagen: not implemented yet in this release.", file=sys.stderr)
    sys.exit(2)

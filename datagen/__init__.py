"""Stage 1: everything that makes a dataset (cameras, the on-disk format, converters, the `datagen` CLI)."""

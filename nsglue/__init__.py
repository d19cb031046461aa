"""Shared nerfstudio glue for the project's Gaussian methods: CPU-safe splatfacto base, device defaults."""

from nsglue.checkpoints import allow_numpy_scalars_in_checkpoints

# Imported by every method config (so by every ns-* command): make nerfstudio's checkpoints loadable again.
allow_numpy_scalars_in_checkpoints()

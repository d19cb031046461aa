"""Shared nerfstudio glue for the project's Gaussian methods: CPU-safe splatfacto base, device defaults."""

"""`rigi-splat`: two Gaussian sets trained side by side with uncertainty-weighted losses (RIGI)."""

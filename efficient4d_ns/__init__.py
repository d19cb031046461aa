"""Efficient4D (video to 4D): native 4D Gaussians trained on a generated time x view image matrix with confidence-weighted losses."""

"""Turntable video of a trained Gaussian model, and a PNG of RIGI's uncertainty (see `nsglue.turntable_video`).

python scripts/turntable.py --load-config outputs/.../config.yml --output-dir demo_out
"""

from nsglue.turntable_video import entrypoint

if __name__ == "__main__":
    entrypoint()

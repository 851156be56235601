"""Conjure's training pipeline: the U-Net of docs/NETWORK.md, data, training, export.

Run the commands from the repository root with Debian's interpreter, e.g.
``/usr/bin/python3 -m train.train --config train/configs/face64.json --out train/runs/face64``.
"""

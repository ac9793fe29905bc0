#!/usr/bin/env python3
"""Checks a model.onnx written by metanas against the logits Burn computed.

    check_onnx.py MODEL.onnx IMAGES.idx PREDICTIONS.csv

IMAGES.idx: an IDX file of unsigned bytes, [N, H, W] (grey) or [N, C, H, W];
pixels are value / 255, as metanas reads them. PREDICTIONS.csv: the file
`cargo xtask predict --logits` wrote for the same images (columns `logit_<k>`).

Runs onnx.checker.check_model (full check) and onnxruntime on the images, and
prints one JSON line: the largest difference between ONNX and Burn logits
relative to the largest Burn logit of each image, the largest absolute
difference, and whether the predicted classes agree. Exits 1 when the checker
refuses the file; the caller judges the numbers.
"""

import csv
import gzip
import json
import sys

import numpy as np
import onnx
import onnxruntime


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    ndims = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndims)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims)
    images = values.reshape(dims).astype(np.float32) / 255.0
    if images.ndim == 3:
        images = images[:, None, :, :]
    return images


def read_logits(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = sorted(
        (c for c in rows[0] if c.startswith("logit_")), key=lambda c: int(c[6:])
    )
    return np.array([[float(r[c]) for c in columns] for r in rows], dtype=np.float64)


def main():
    model_path, images_path, predictions_path = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(
        model_path, providers=["CPUExecutionProvider"]
    )
    images = read_idx(images_path)
    logits, probabilities = session.run(["logits", "probabilities"], {"pixels": images})
    burn = read_logits(predictions_path)
    if burn.shape != logits.shape:
        raise SystemExit(f"ONNX logits {logits.shape}, Burn logits {burn.shape}")
    difference = np.abs(logits.astype(np.float64) - burn)
    scale = np.maximum(np.abs(burn).max(axis=1), 1e-12)
    print(
        json.dumps(
            {
                "images": int(images.shape[0]),
                "max_relative_difference": float((difference.max(axis=1) / scale).max()),
                "max_absolute_difference": float(difference.max()),
                "classes_agree": bool((logits.argmax(1) == burn.argmax(1)).all()),
                "probabilities_sum_to_one": bool(
                    np.allclose(probabilities.sum(1), 1.0, atol=1e-5)
                ),
                "ops": sorted({node.op_type for node in model.graph.node}),
                "opset": int(model.opset_import[0].version),
                "ir_version": int(model.ir_version),
                "onnx": onnx.__version__,
                "onnxruntime": onnxruntime.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()

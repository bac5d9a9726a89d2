"""PyTorch side of zcnn's interop test: the peers' models, loaded from or saved to safetensors.

    check  --model M --checkpoint F --inputs X.npy --expected Y.npy [--tol T]
        Loads the zcnn checkpoint F into PyTorch's model M with load_state_dict (strict), runs it
        in eval mode on X (channels last, as zcnn stores it) and compares its raw outputs with
        zcnn's Y. Exits 1 if max |diff| >= T.
    export --model M --seed S --checkpoint F --inputs X.npy --predictions Y.npy
        Builds M with PyTorch's own random initialisation (and, for batch norm, random affine
        parameters and a few training passes so the running statistics move), saves its
        state_dict to F and its eval-mode outputs on X to Y, for zcnn to load and compare.

Models (as in ../shared/peers/torch_bench.py, so the module indices match zcnn's names):
    specz        specz-baseline, 1 x 1780 -> 800 classes. PyTorch's padding='same' pads an even
                 kernel 3 left / 4 right, as zcnn's explicit (3, 4) padding does.
    kim_brunner  Kim & Brunner 2016, 5 x 44 x 44 -> 2 classes.
"""
import argparse
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

STATE_PREFIX = "zcnn_state."
# PyTorch warns that padding='same' with an even kernel copies the input; that is expected.
warnings.filterwarnings("ignore", message="Using padding='same'")


def specz(length=1780, classes=800):
    layers, c = [], 1
    for _ in range(3):
        layers += [nn.Conv1d(c, 16, 8, padding="same"), nn.ReLU(), nn.MaxPool1d(3, 2),
                   nn.BatchNorm1d(16)]
        c = 16
        length = (length - 3) // 2 + 1
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(16 * length, 512), nn.Dropout(0.5),
               nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def kim_brunner(classes=2):
    def a():
        return nn.LeakyReLU(0.01)

    return nn.Sequential(
        nn.Conv2d(5, 32, 5), a(), nn.Conv2d(32, 32, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), a(), nn.Conv2d(64, 64, 3, padding=1), a(),
        nn.Conv2d(64, 64, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), a(), nn.Conv2d(128, 128, 3, padding=1), a(),
        nn.Conv2d(128, 128, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 25, 2048), a(), nn.Dropout(0.5),
        nn.Linear(2048, 2048), a(), nn.Linear(2048, classes))


MODELS = {"specz": specz, "kim_brunner": kim_brunner}


def channels_first(x):
    """zcnn's [N, L, C] / [N, H, W, C] as PyTorch's [N, C, L] / [N, C, H, W]."""
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1)).contiguous()


def predict(model, inputs_path):
    model.eval()
    with torch.no_grad():
        return model(channels_first(np.load(inputs_path))).numpy()


def check(args):
    state = load_file(args.checkpoint)
    state = {k: v for k, v in state.items() if not k.startswith(STATE_PREFIX)}
    model = MODELS[args.model]()
    model.load_state_dict(state)  # strict: every name and shape must match
    ours = predict(model, args.inputs)
    theirs = np.load(args.expected)
    if ours.shape != theirs.shape:
        print(f"shape mismatch: torch {ours.shape}, zcnn {theirs.shape}")
        return 1
    diff = float(np.max(np.abs(ours - theirs)))
    scale = float(np.max(np.abs(ours)))
    print(f"{args.model}: zcnn checkpoint in PyTorch: max |diff| = {diff:.3g} "
          f"(outputs up to {scale:.3g}), tolerance {args.tol:g}")
    return 0 if diff < args.tol else 1


def export(args):
    torch.manual_seed(args.seed)
    model = MODELS[args.model]()
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for bn in batch_norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    if batch_norms:
        model.train()
        shape = np.load(args.inputs).shape
        with torch.no_grad():
            for _ in range(3):
                model(channels_first(np.random.default_rng(args.seed).normal(size=shape)))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.checkpoint)
    np.save(args.predictions, predict(model, args.inputs).astype(np.float32))
    print(f"{args.model}: PyTorch state_dict ({len(model.state_dict())} tensors) saved")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    e = sub.add_parser("export")
    for s in (c, e):
        s.add_argument("--model", choices=sorted(MODELS), required=True)
        s.add_argument("--checkpoint", required=True)
        s.add_argument("--inputs", required=True)
    c.add_argument("--expected", required=True)
    c.add_argument("--tol", type=float, default=1e-4)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--predictions", required=True)
    args = p.parse_args()
    torch.set_num_threads(2)
    return check(args) if args.command == "check" else export(args)


if __name__ == "__main__":
    sys.exit(main())

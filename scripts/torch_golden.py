"""Golden values of one training step, computed by PyTorch, for tests/torch_golden.rs.

    python scripts/torch_golden.py [--out tests/data/torch_golden.safetensors]

For each of zcnn's presets specz-baseline (input 1 x 100, a shorter spectrum than the
preset's default 1780, so that its Dense 512 stays small), kim-brunner (5 x 44 x 44) and
pasquet (5 x 64 x 64 and E(B-V)), all with 16 output classes, it builds the network in PyTorch
with the module indices of zcnn's `state_dict` names (src/torch.rs), sets known initial
weights, and runs ONE step on a fixed small batch: forward in training mode (batch norm on
batch statistics, dropout off), mean softmax cross-entropy, backward, and one
`torch.optim.Adam` step (lr 1e-3, PyTorch's defaults otherwise).

Initial weights. Every convolution and linear weight (2 or more dimensions) is
`golden_uniform(name, n)` scaled to U(-1/sqrt(fan_in), 1/sqrt(fan_in)): a counter-based
SplitMix64 stream keyed by the FNV-1a hash of the tensor's name, whose 24-bit values are exact
in float32, so the Rust test computes the same weights bit for bit without storing them. The
other tensors (biases, batch-norm affine and running statistics, PReLU slopes) are drawn here
and stored.

The fixture, one safetensors file; every key starts with the model's name `M/`:
    M/x, M/extra          the batch, channels last as zcnn stores it ([N, L, C] / [N, H, W, C])
    M/labels              class of each sample (int64)
    M/logits, M/loss      PyTorch's outputs of the forward pass and the batch-mean loss
    M/init/NAME           initial value of each tensor that is not a weight of 2+ dimensions
    M/grad/NAME           d loss / d parameter, in PyTorch's layout
    M/updated/NAME        every tensor after the step (parameters, running statistics,
                          num_batches_tracked)
    M/stride/NAME         present for tensors over SAMPLE_ABOVE elements: their grad and
                          updated values hold only the flat indices 0, s, 2s, ... (s = stride),
                          which keeps the file small (kim-brunner's and pasquet's FC layers
                          hold 11 M and 26 M parameters: 45 and 103 MB per full copy)
"""
import argparse
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from torch_interop import kim_brunner, specz

warnings.filterwarnings("ignore", message="Using padding='same'")

CLASSES = 16
LR = 1e-3
SAMPLE_ABOVE = 16384
SAMPLES = 4096
MASK64 = (1 << 64) - 1


def fnv1a64(text):
    """FNV-1a, 64 bits, of the UTF-8 bytes of `text`."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def golden_uniform(name, n):
    """n values in [0, 1): u_i = (splitmix64(fnv1a64(name) + (i + 1) * golden) >> 40) / 2^24."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(name)) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(
            0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def golden_weight(name, shape):
    """U(-b, b), b = 1/sqrt(fan_in): -b + 2b*u in float64, rounded once to float32."""
    n = int(np.prod(shape))
    bound = 1.0 / np.sqrt(n // shape[0])
    u = golden_uniform(name, n)
    return torch.from_numpy((-bound + 2.0 * bound * u).astype(np.float32).reshape(shape))


class SameAvgPool2d(nn.Module):
    """TensorFlow's "SAME" average pool: output ceil(L / stride), the odd padding pixel after,
    and each window averages its valid (unpadded) pixels only."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def padding(self, length):
        out = -(-length // self.stride)
        total = max((out - 1) * self.stride + self.kernel - length, 0)
        return total // 2, total - total // 2

    def forward(self, x):
        pad = (*self.padding(x.shape[3]), *self.padding(x.shape[2]))
        ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype=x.dtype)
        window_sum = F.avg_pool2d(F.pad(x, pad), self.kernel, self.stride, divisor_override=1)
        count = F.avg_pool2d(F.pad(ones, pad), self.kernel, self.stride, divisor_override=1)
        return window_sum / count


class Inception(nn.Module):
    """Branches whose outputs are concatenated over channels, in order."""

    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def conv_prelu(cin, cout, k):
    return [nn.Conv2d(cin, cout, k, padding="same"), nn.PReLU(cout)]


def inception_p(cin, s1, s2, with_5x5):
    branches = [conv_prelu(cin, s2, 1)]
    if with_5x5:
        branches.append(conv_prelu(cin, s1, 1) + conv_prelu(s1, s2, 5))
    branches.append(conv_prelu(cin, s1, 1) + conv_prelu(s1, s2, 3))
    branches.append(conv_prelu(cin, s1, 1) + [SameAvgPool2d(2, 1)])
    width = s2 * (len(branches) - 1) + s1
    return Inception([nn.Sequential(*b) for b in branches]), width


class Pasquet(nn.Sequential):
    """zcnn's `pasquet` preset; module 11 appends the per-sample scalars (E(B-V))."""

    APPEND = 11

    def __init__(self, classes):
        layers = conv_prelu(5, 64, 5) + [SameAvgPool2d(2, 2)]
        c = 64
        for s1, s2, with_5x5, pool in [(48, 64, True, False), (64, 92, True, True),
                                       (92, 128, True, False), (92, 128, True, True),
                                       (92, 128, False, False)]:
            block, c = inception_p(c, s1, s2, with_5x5)
            layers.append(block)
            if pool:
                layers.append(SameAvgPool2d(2, 2))
        layers += [nn.Flatten(), nn.Identity(), nn.Linear(8 * 8 * c + 1, 1024), nn.ReLU(),
                   nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, classes)]
        super().__init__(*layers)

    def forward(self, x, extra):
        for i, layer in enumerate(self):
            x = torch.cat([x, extra], dim=1) if i == self.APPEND else layer(x)
        return x


def set_initial_weights(model, rng):
    """Weights of 2+ dimensions from golden_weight; the rest drawn from `rng` and returned."""
    stored = {}
    batch_norms = {n for n, m in model.named_modules()
                   if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))}
    with torch.no_grad():
        for name, t in model.state_dict(keep_vars=True).items():
            module, leaf = name.rsplit(".", 1)
            if t.dim() >= 2:
                t.copy_(golden_weight(name, tuple(t.shape)))
                continue
            if leaf == "num_batches_tracked":
                t.fill_(5)
            else:
                lo, hi = {
                    "bias": (-0.1, 0.1),
                    "running_mean": (-0.2, 0.2),
                    "running_var": (0.5, 1.5),
                    "weight": (0.5, 1.5) if module in batch_norms else (0.0, 0.5),  # PReLU
                }[leaf]
                t.copy_(torch.from_numpy(rng.uniform(lo, hi, t.shape).astype(np.float32)))
            stored[name] = t.detach().clone()
    return stored


def channels_first(x):
    t = torch.from_numpy(x)
    return t.permute(0, t.dim() - 1, *range(1, t.dim() - 1)).contiguous()


def store(out, prefix, kind, name, t):
    """Stores `t` as `prefix/kind/name`: whole, or for a tensor over SAMPLE_ABOVE elements its
    flat elements 0, s, 2s, ... with the stride s as `prefix/stride/name`."""
    flat = t.detach().reshape(-1)
    if flat.numel() > SAMPLE_ABOVE:
        stride = -(-flat.numel() // SAMPLES) | 1  # odd, so that rows and columns vary
        out[f"{prefix}/stride/{name}"] = torch.tensor(stride, dtype=torch.int64)
        flat = flat[::stride]
    out[f"{prefix}/{kind}/{name}"] = flat.contiguous()


def golden_step(prefix, model, x, extra, out, seed):
    rng = np.random.default_rng(seed)
    init = set_initial_weights(model, rng)
    batch = x.shape[0]
    labels = rng.integers(0, CLASSES, batch)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()  # dropout off: zcnn freezes its dropout layers the same way
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    xt = channels_first(x)
    logits = model(xt, torch.from_numpy(extra)) if extra.shape[1] else model(xt)
    loss = F.cross_entropy(logits, torch.from_numpy(labels))
    optimizer.zero_grad()
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    optimizer.step()

    out[f"{prefix}/x"] = torch.from_numpy(x)
    out[f"{prefix}/extra"] = torch.from_numpy(extra)
    out[f"{prefix}/labels"] = torch.from_numpy(labels.astype(np.int64))
    out[f"{prefix}/logits"] = logits.detach().contiguous()
    out[f"{prefix}/loss"] = loss.detach().reshape([])
    for name, t in init.items():
        out[f"{prefix}/init/{name}"] = t.contiguous()
    for name, g in grads.items():
        store(out, prefix, "grad", name, g)
    for name, t in model.state_dict().items():
        store(out, prefix, "updated", name, t)
    print(f"{prefix}: {sum(p.numel() for p in model.parameters())} parameters, "
          f"loss {loss.item():.6f}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="tests/data/torch_golden.safetensors")
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rng = np.random.default_rng(2026)

    def normal(*shape):
        return rng.normal(size=shape).astype(np.float32)

    out = {}
    golden_step("specz", specz(length=100, classes=CLASSES), normal(4, 100, 1),
                normal(4, 0), out, seed=1)
    golden_step("kim_brunner", kim_brunner(classes=CLASSES), normal(2, 44, 44, 5),
                normal(2, 0), out, seed=2)
    golden_step("pasquet", Pasquet(CLASSES), normal(2, 64, 64, 5),
                np.abs(normal(2, 1)) * 0.1, out, seed=3)
    save_file(out, args.out)
    total = sum(t.numel() * t.element_size() for t in out.values())
    print(f"wrote {args.out}: {len(out)} tensors, {total / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

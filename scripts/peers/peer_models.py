"""The reference architectures in PyTorch, layer for layer as zcnn's presets (src/presets.rs),
for the peer benchmarks torch_bench.py and ort_bench.py.

specz-cnn and kim-brunner are copied from the peer (shared/peers/torch_bench.py); pasquet is
written from src/presets.rs::pasquet. Layouts differ (PyTorch is NCHW, zcnn NHWC), so the
flattened feature order differs; the work per sample does not.

CASES maps a model name to (builder, per-sample input shapes, classes). Every model's forward
takes the inputs in that order."""
import torch
import torch.nn as nn


def specz_cnn(L=1780, classes=800):
    # teaching baseline of the spec-z seed: 3x[conv16 k8 same relu, maxpool3/2, BN]
    layers, c = [], 1
    for _ in range(3):
        layers += [nn.Conv1d(c, 16, 8, padding='same'), nn.ReLU(), nn.MaxPool1d(3, 2), nn.BatchNorm1d(16)]
        c = 16
        L = (L - 3) // 2 + 1
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(16 * L, 512), nn.Dropout(0.5), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def kim_brunner(classes=2):
    a = lambda: nn.LeakyReLU(0.01)
    return nn.Sequential(
        nn.Conv2d(5, 32, 5), a(), nn.Conv2d(32, 32, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), a(), nn.Conv2d(64, 64, 3, padding=1), a(), nn.Conv2d(64, 64, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), a(), nn.Conv2d(128, 128, 3, padding=1), a(), nn.Conv2d(128, 128, 3, padding=1), a(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 25, 2048), a(), nn.Dropout(0.5), nn.Linear(2048, 2048), a(), nn.Linear(2048, classes))


def conv_prelu(cin, cout, k):
    # A "same" convolution (odd kernels only: k // 2 on each side) and a PReLU per channel
    # whose slopes start at 0, as zcnn's conv_prelu.
    return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.PReLU(cout, init=0.0)]


class SamePool2x2Stride1(nn.Module):
    """TensorFlow's "SAME" 2x2 average pool at stride 1: the window at (i, j) covers rows i, i+1
    and columns j, j+1, the row and column past the edge are padding, and only valid pixels are
    averaged. PyTorch pads symmetrically, so pad one on each side without counting the padding
    and drop the first output row and column (windows starting at -1)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.pool(x)[:, :, 1:, 1:]


class Inception(nn.Module):
    """Pasquet's inception module: concat of [1x1 -> s2], [1x1 -> s1, 5x5 -> s2] (optional),
    [1x1 -> s1, 3x3 -> s2], [1x1 -> s1, 2x2 stride-1 "SAME" average pool], every convolution
    followed by a PReLU."""

    def __init__(self, cin, s1, s2, with_5x5=True):
        super().__init__()
        branches = [nn.Sequential(*conv_prelu(cin, s2, 1))]
        if with_5x5:
            branches.append(nn.Sequential(*conv_prelu(cin, s1, 1), *conv_prelu(s1, s2, 5)))
        branches.append(nn.Sequential(*conv_prelu(cin, s1, 1), *conv_prelu(s1, s2, 3)))
        branches.append(nn.Sequential(*conv_prelu(cin, s1, 1), SamePool2x2Stride1()))
        self.branches = nn.ModuleList(branches)
        self.out_ch = s2 * (3 if with_5x5 else 2) + s1

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


class Pasquet(nn.Module):
    """Pasquet et al. 2019 / Lin et al. 2022 "Net_P" (zcnn preset `pasquet`): input 5x64x64;
    conv 5x5 64 + PReLU -> avgpool -> I(48, 64) -> I(64, 92) -> avgpool -> I(92, 128) x 2 ->
    avgpool -> I(92, 128) without the 5x5 branch -> flatten, append E(B-V) -> FC 1024 ReLU ->
    FC 1024 ReLU -> FC classes. The 2x2 stride-2 pools of even sizes pad nothing under "SAME"."""

    def __init__(self, classes=180):
        super().__init__()
        i1 = Inception(64, 48, 64)
        i2 = Inception(i1.out_ch, 64, 92)
        i3 = Inception(i2.out_ch, 92, 128)
        i4 = Inception(i3.out_ch, 92, 128)
        i5 = Inception(i4.out_ch, 92, 128, with_5x5=False)
        self.features = nn.Sequential(
            *conv_prelu(5, 64, 5), nn.AvgPool2d(2), i1, i2, nn.AvgPool2d(2), i3, i4,
            nn.AvgPool2d(2), i5, nn.Flatten())
        self.fc = nn.Sequential(
            nn.Linear(i5.out_ch * 8 * 8 + 1, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
            nn.Linear(1024, classes))

    def forward(self, x, ebv):
        return self.fc(torch.cat([self.features(x), ebv], dim=1))


CASES = {
    "specz-cnn": (specz_cnn, [(1, 1780)], 800),
    "kim-brunner": (kim_brunner, [(5, 44, 44)], 2),
    "pasquet": (Pasquet, [(5, 64, 64), (1,)], 180),
}


def case(name, batch):
    """The model `name` and one batch of random inputs for it; the number of classes."""
    build, shapes, classes = CASES[name]
    model = build(classes=classes)
    inputs = tuple(torch.randn(batch, *shape) for shape in shapes)
    return model, inputs, classes

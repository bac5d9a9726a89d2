"""Peer anchor: PyTorch CPU training/inference throughput for the seed architectures.
Run: python torch_bench.py [threads]  -> prints samples/s per model and phase."""
import sys, time, torch, torch.nn as nn
# Copied from the peer (shared/peers/torch_bench.py) for scripts/bench_vs_pytorch.sh. Changes:
# optional argv[2] runs only the case "name:batch" (e.g. "kim-brunner:128") and exits after it,
# so that each case's peak memory can be measured in its own process; argv[3] sets the seconds
# (default 8).
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
only = sys.argv[2] if len(sys.argv) > 2 else None
seconds_arg = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
torch.set_num_threads(threads)
torch.manual_seed(0)

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

def bench(name, model, shape, classes, batch, seconds=seconds_arg):
    if only is not None and only != f"{name}:{batch}":
        return
    x = torch.randn(batch, *shape); y = torch.randint(0, classes, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4); lossf = nn.CrossEntropyLoss()
    model.train()
    def step():
        opt.zero_grad(set_to_none=True); loss = lossf(model(x), y); loss.backward(); opt.step()
    for _ in range(3): step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds: step(); n += 1
    train = n * batch / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        for _ in range(3): model(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 2: model(x); n += 1
        infer = n * batch / (time.perf_counter() - t0)
    params = sum(p.numel() for p in model.parameters())
    print(f"{name:12s} batch {batch:4d} params {params/1e6:.2f}M  train {train:9.1f} samples/s  infer {infer:9.1f} samples/s", flush=True)
    if only is not None:
        sys.exit(0)

bench("specz-cnn", specz_cnn(), (1, 1780), 800, 32)
bench("specz-cnn", specz_cnn(), (1, 1780), 800, 256)
bench("kim-brunner", kim_brunner(), (5, 44, 44), 2, 128)

"""Peer: PyTorch CPU training and inference throughput on the reference architectures.
Run: python torch_bench.py [threads] [name:batch] [seconds]  -> one line per case:
'<name> batch <b> params <p>M  train <t> samples/s  infer <i> samples/s'.

Adapted from the peer (shared/peers/torch_bench.py): the models live in peer_models.py (with
pasquet added); argv[2] runs only the case "name:batch" (e.g. "kim-brunner:128"), so that each
case's peak memory can be measured in its own process; argv[3] sets the seconds (default 8)."""
import os, sys, time
import torch, torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_models import case  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
only = sys.argv[2] if len(sys.argv) > 2 else None
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
torch.set_num_threads(threads)
torch.manual_seed(0)


def bench(name, batch):
    if only is not None and only != f"{name}:{batch}":
        return
    model, x, classes = case(name, batch)
    y = torch.randint(0, classes, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4); lossf = nn.CrossEntropyLoss()
    model.train()
    def step():
        opt.zero_grad(set_to_none=True); loss = lossf(model(*x), y); loss.backward(); opt.step()
    for _ in range(3): step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds: step(); n += 1
    train = n * batch / (time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        for _ in range(3): model(*x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 2: model(*x); n += 1
        infer = n * batch / (time.perf_counter() - t0)
    params = sum(p.numel() for p in model.parameters())
    print(f"{name:12s} batch {batch:4d} params {params/1e6:.2f}M  train {train:9.1f} samples/s  infer {infer:9.1f} samples/s", flush=True)


bench("specz-cnn", 32)
bench("specz-cnn", 256)
bench("kim-brunner", 128)
bench("pasquet", 128)

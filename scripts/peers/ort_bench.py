"""Inference peer: ONNX Runtime (CPU) on the models of peer_models.py, exported from PyTorch.
Run: python ort_bench.py [threads] [name:batch] [seconds]  -> one line per case:
'ort <name> batch <b> infer <i> samples/s'.

Adapted from the peer (shared/peers/ort_bench.py): the models come from peer_models.py (with
pasquet and its second input, E(B-V)); argv[2] runs only the case "name:batch"; argv[3] sets the
seconds of training that torch_bench.py would use: inference runs for half of them (default 8),
as in torch_bench.py. Needs torch, onnx and onnxruntime in the same interpreter."""
import os, sys, time, tempfile, warnings
import torch, onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_models import case  # noqa: E402

warnings.filterwarnings("ignore")
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
only = sys.argv[2] if len(sys.argv) > 2 else None
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
torch.manual_seed(0)


def bench(name, batch):
    if only is not None and only != f"{name}:{batch}":
        return
    model, x, _ = case(name, batch)
    model.eval()
    names = [f"x{i}" for i in range(len(x))]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{name}_{batch}.onnx")
        torch.onnx.export(model, x, path, input_names=names, output_names=["y"], dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {n: v.numpy() for n, v in zip(names, x)}
    for _ in range(3):
        session.run(None, feed)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2:
        session.run(None, feed)
        n += 1
    print(f"ort {name} batch {batch} infer {n * batch / (time.perf_counter() - t0):.1f} samples/s", flush=True)


bench("specz-cnn", 32)
bench("specz-cnn", 256)
bench("kim-brunner", 128)
bench("pasquet", 128)

"""Training throughput of the same MLP and CNN in PyTorch (batch 128, Adam, random data).

Run by bench/train.ts with any python3 that can `import torch`; prints one JSON object.
Usage: torch_train.py THREADS REPEATS SECONDS
THREADS bounds ATen's threads and the BLAS's (OpenBLAS, MKL) alike.
Each figure is measured REPEATS times, each for at least SECONDS of training after a warm-up, and
all repeats are printed (the caller reports the median). The architectures match
src/surrogates/mlp.ts (784-256-128-10) and src/surrogates/cnn.ts (the CNN of docs/scenarios.md).
`sgemm_gflops` is a 1024^3 float32 matmul, the machine's practical peak for these kernels.
"""
import json
import os
import sys
import time

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
# torch.set_num_threads sizes ATen's OpenMP pool only. Debian's torch does its matrix products in
# OpenBLAS's pthread build, which starts one thread per core unless told otherwise when it loads:
# without this, a "1 thread" run multiplied on both cores (a 1024^3 sgemm ran at 298 GFLOP/s,
# against 156 with OPENBLAS_NUM_THREADS=1).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(THREADS)

import torch  # noqa: E402 (after the thread settings, which the BLAS reads when it loads)
from torch import nn  # noqa: E402

torch.set_num_threads(THREADS)
torch.manual_seed(0)
BATCH = 128


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def samples_per_second(make, shape, batches=20):
    model = make()
    x = torch.rand(batches * BATCH, *shape)
    y = torch.randint(0, 10, (batches * BATCH,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(i):
        i %= batches
        xb, yb = x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    for i in range(5):
        step(i)
    runs = []
    for _ in range(REPEATS):
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < SECONDS:
            step(n)
            n += 1
        runs.append(n * BATCH / (time.perf_counter() - t0))
    return [round(r) for r in runs]


def sgemm_gflops(n=1024):
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    torch.mm(a, b)
    runs = []
    for _ in range(REPEATS):
        k = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            torch.mm(a, b)
            k += 1
        runs.append(round(2 * n ** 3 * k / (time.perf_counter() - t0) / 1e9, 1))
    return runs


print(json.dumps({
    "torch": torch.__version__,
    "threads": THREADS,
    "mlp_samples_per_s": samples_per_second(mlp, (784,)),
    "cnn_samples_per_s": samples_per_second(cnn, (1, 28, 28)),
    "sgemm_gflops": sgemm_gflops(),
}))

"""Training throughput of the same MLP and CNN in PyTorch (one thread, batch 128, Adam, random data).

Run by bench/run.ts when `import torch` works; prints one JSON object. The architectures match
src/surrogates/mlp.ts (784-256-128-10) and src/surrogates/cnn.ts (the CNN of docs/scenarios.md).
"""
import json
import time

import torch
from torch import nn

torch.set_num_threads(1)
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


def samples_per_second(model, shape, batches):
    x = torch.rand(batches * BATCH, *shape)
    y = torch.randint(0, 10, (batches * BATCH,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(n):
        for i in range(n):
            xb, yb = x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()

    epoch(4)
    t0 = time.perf_counter()
    epoch(batches)
    return batches * BATCH / (time.perf_counter() - t0)


print(json.dumps({
    "torch": torch.__version__,
    "mlp_784_256_128_10_samples_per_s": round(samples_per_second(mlp(), (784,), 60)),
    "cnn_samples_per_s": round(samples_per_second(cnn(), (1, 28, 28), 20)),
}))

"""@file The FastAPI + PyTorch peer of the gateway benchmark: serves the heist-v1 predict request
(POST /v1/models/{name}/predict with {"inputs": [[...]]} -> {"model", "predictions": [{"label",
"probabilities"}]}) for the same network with the same weights as the ONNX victim. The graph and
weights come from bench/export-torch-weights.ts as JSON; this file rebuilds the chain of ONNX nodes
as torch modules (Transpose, Conv, Relu, MaxPool, Flatten, Gemm, Softmax). One uvicorn worker,
torch on one thread, no reload, no access log. The body is read with json.loads (no pydantic
model): the fastest plain FastAPI way, so the peer is not handicapped by validation overhead.
Usage: python3 bench/torch_server.py --weights spec.json --port P [--host 127.0.0.1]
"""
import argparse
import json

import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


class Permute(torch.nn.Module):
    def __init__(self, perm):
        super().__init__()
        self.perm = list(perm)

    def forward(self, x):
        return x.permute(*self.perm)


def tensor(spec, name):
    t = spec["initializers"][name]
    return torch.tensor(t["data"], dtype=torch.float32).reshape(t["dims"])


def layer(spec, node):
    op, a = node["op"], node["attrs"]
    if op == "Transpose":
        return Permute(a["perm"])
    if op == "Relu":
        return torch.nn.ReLU()
    if op == "Conv":
        w = tensor(spec, node["inputs"][1])
        pads = a.get("pads", [0, 0, 0, 0])
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise ValueError("asymmetric Conv padding is not supported")
        conv = torch.nn.Conv2d(
            w.shape[1], w.shape[0], tuple(a["kernel_shape"]), stride=tuple(a.get("strides", [1, 1])),
            padding=(pads[0], pads[1]), bias=len(node["inputs"]) > 2,
        )
        conv.weight.data.copy_(w)
        if len(node["inputs"]) > 2:
            conv.bias.data.copy_(tensor(spec, node["inputs"][2]))
        return conv
    if op == "MaxPool":
        if any(a.get("pads", [0])):
            raise ValueError("padded MaxPool is not supported")
        return torch.nn.MaxPool2d(tuple(a["kernel_shape"]), stride=tuple(a.get("strides", a["kernel_shape"])))
    if op == "Flatten":
        return torch.nn.Flatten(start_dim=a.get("axis", 1))
    if op == "Gemm":
        if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
            raise ValueError("Gemm with alpha, beta or transA is not supported")
        w = tensor(spec, node["inputs"][1])
        # ONNX Gemm: y = x @ W (+ b) with W [in, out] unless transB=1 ([out, in], torch's layout).
        w = w if a.get("transB", 0) else w.t()
        lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=len(node["inputs"]) > 2)
        lin.weight.data.copy_(w)
        if len(node["inputs"]) > 2:
            lin.bias.data.copy_(tensor(spec, node["inputs"][2]))
        return lin
    if op == "Softmax":
        return torch.nn.Softmax(dim=a.get("axis", -1))
    raise ValueError(f"ONNX op {op} is not supported")


def build(spec):
    """The node chain as a Sequential; refuses graphs that are not a single chain."""
    layers, current = [], spec["input"]["name"]
    for node in spec["nodes"]:
        if node["inputs"][0] != current or len(node["outputs"]) != 1:
            raise ValueError(f"the graph is not a chain at {node['op']}")
        layers.append(layer(spec, node))
        current = node["outputs"][0]
    if current != spec["output"]:
        raise ValueError("the chain does not end at the graph output")
    return torch.nn.Sequential(*layers).eval()


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def make_app(spec):
    net = build(spec)
    row_shape = [int(d) for d in spec["input"]["dims"][1:]]
    size = 1
    for d in row_shape:
        size *= d
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.post("/v1/models/{name}/predict")
    async def predict(name: str, request: Request):
        if name != spec["name"]:
            return error(404, "HEIST_ERR_UNKNOWN_MODEL", "no model of that name is served")
        try:
            body = json.loads(await request.body())
            x = torch.tensor(body["inputs"], dtype=torch.float32)
        except (ValueError, KeyError, TypeError):
            return error(400, "HEIST_ERR_BAD_BODY", 'the body must be {"inputs": [[...], ...]}')
        if x.dim() != 2 or x.shape[1] != size or x.shape[0] == 0:
            return error(400, "HEIST_ERR_SHAPE", f"inputs must be rows of {size} numbers")
        with torch.inference_mode():
            probs = net(x.reshape([x.shape[0], *row_shape]))
        labels = probs.argmax(dim=1).tolist()
        out = {
            "model": name,
            "predictions": [{"label": l, "probabilities": p} for l, p in zip(labels, probs.tolist())],
        }
        return Response(json.dumps(out), media_type="application/json")

    return app


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    o = p.parse_args()
    # ATen's threads only: Debian's torch multiplies in OpenBLAS's pthread build, which still uses
    # every core for the Linear layers (bench/torch_train.py holds it; this peer is left as it was
    # measured, and bench/gateway.ts says so in its setup line).
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    with open(o.weights) as f:
        spec = json.load(f)
    app = make_app(spec)
    uvicorn.run(app, host=o.host, port=o.port, workers=1, reload=False, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()

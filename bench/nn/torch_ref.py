#!/usr/bin/python3
"""PyTorch 1.13 reference for the IDEKO neural benchmarks (one family per process).

    /usr/bin/python3 bench/nn/torch_ref.py FAMILY --train DIR --test DIR --max-length L
        [--epochs N] [--seed S] [--threads 2] [--out result.json]

FAMILY is mlp, cnn, rnn, lstm or lstm-win. DIR holds <class>/<day>/<file>.zip (the
harness's folders of symlinks), so this process reads exactly the recordings the Lathe
pipeline reads. L is the longest raw recording over train and test: sequences are zero
post-padded to ceil(L / factor) steps, as the Lathe pipeline's transform/pad does.

The preprocessing and architectures mirror the Lathe pipelines bench_nn.py writes
(see README.md): f3; every n-th sample; per-channel standardisation fitted on the
training recordings' valid steps; zero post-padding (lstm-win instead: every 10th
sample, [f3, trailing rolling mean and std over 10 steps], standardised, then windows of
10 steps at stride 2, each labelled with its recording's class; the test accuracy is per
window, and per recording from the mean window probability). Sequence reductions honour the
valid length, as Lathe's engine does: the RNN/LSTM take the output at the last valid
step, and the CNN computes on each recording exactly what it would compute on the
unpadded recording: activations past the valid length are zeroed before each
convolution (which then sees them as its zero border) and before each max-pool (whose
partial last window thus takes the max of valid values only; ReLU outputs are >= 0),
each pool maps a valid length L to ceil(L/2), and the global average pool averages the
valid steps only. These are the semantics of Lathe's nn engine (nn/layer-conv1d.c,
layer-maxpool.c, layer-pool.c).

Prints one JSON object (also written to --out): timings, accuracy, macro-F1, sizes.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ideko  # noqa: E402
import numpy as np  # noqa: E402

FAMILIES = {
    # factor: keep every factor-th raw sample
    "mlp": {"factor": 1},
    "cnn": {"factor": 10},
    "rnn": {"factor": 50},
    "lstm": {"factor": 50},
    "lstm-win": {"factor": 10, "rolling": 10, "seq_len": 10, "stride": 2},
}


def build_model(torch, family, in_ch, in_steps, n_classes):
    nn = torch.nn

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            layers, d = [], in_ch * in_steps
            for u in (100, 100, 100):
                layers += [nn.Linear(d, u), nn.ReLU()]
                d = u
            layers.append(nn.Linear(d, n_classes))
            self.net = nn.Sequential(*layers)

        def forward(self, x, lengths):
            return self.net(x.reshape(x.shape[0], -1))

    class Cnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList()
            c = in_ch
            for f in (128, 128, 128):
                self.convs.append(nn.Conv1d(c, f, kernel_size=3, padding=1))
                c = f
            self.pool = nn.MaxPool1d(2, ceil_mode=True)
            self.out = nn.Linear(c, n_classes)

        def forward(self, x, lengths):
            h = x.transpose(1, 2)  # n x channels x steps
            for conv in self.convs:
                mask = self.mask(h, lengths)
                # Zero past the valid length before and after conv + ReLU: the
                # convolution then reads padding as its own zero border, and the
                # pool's partial last window sees only valid values (ReLU >= 0).
                h = self.pool(torch.relu(conv(h * mask)) * mask)
                lengths = torch.div(lengths + 1, 2, rounding_mode="floor")
            gap = (h * self.mask(h, lengths)).sum(dim=2) / lengths[:, None].to(h.dtype)
            return self.out(gap)

        @staticmethod
        def mask(h, lengths):
            steps = torch.arange(h.shape[2])
            return (steps[None, :] < lengths[:, None]).to(h.dtype)[:, None, :]

    class Recurrent(nn.Module):
        def __init__(self, cell, units):
            super().__init__()
            self.rnn = cell(in_ch, units, num_layers=2, batch_first=True)
            self.out = nn.Linear(units, n_classes)

        def forward(self, x, lengths):
            h, _ = self.rnn(x)
            last = h[torch.arange(h.shape[0]), lengths - 1]
            return self.out(last)

    if family == "mlp":
        return Mlp()
    if family == "cnn":
        return Cnn()
    if family == "rnn":
        return Recurrent(nn.RNN, 128)
    return Recurrent(nn.LSTM, 64)


def prepare(train_dir, test_dir, max_length, spec):
    """The model inputs of both sides, as numpy: (Xtr, Ltr, ytr, Xte, Lte, yte, test window ->
    recording, recording labels), the class names, and the seconds it took."""
    t0 = time.perf_counter()
    xtr, ytr = ideko.load(train_dir)
    xte, yte = ideko.load(test_dir)
    factor = spec["factor"]
    xtr, xte = ideko.downsample(xtr, factor), ideko.downsample(xte, factor)
    if "rolling" in spec:
        xtr, xte = ideko.rolling(xtr, spec["rolling"]), ideko.rolling(xte, spec["rolling"])
    mean, std = ideko.fit_standardize(xtr)
    xtr = [(x - mean) / std for x in xtr]
    xte = [(x - mean) / std for x in xte]
    classes = sorted(set(ytr))
    cid = {c: i for i, c in enumerate(classes)}
    if "seq_len" in spec:
        Xtr, wytr, _ = ideko.windows(xtr, ytr, spec["seq_len"], spec["stride"])
        Xte, wyte, gte = ideko.windows(xte, yte, spec["seq_len"], spec["stride"])
        Ltr = np.full(len(Xtr), spec["seq_len"])
        Lte = np.full(len(Xte), spec["seq_len"])
        data = (Xtr, Ltr, [cid[c] for c in wytr], Xte, Lte, [cid[c] for c in wyte], gte,
                [cid[c] for c in yte])
    else:
        length = -(-max_length // factor)
        Xtr, Ltr = ideko.pad(xtr, length)
        Xte, Lte = ideko.pad(xte, length)
        data = (Xtr, Ltr, [cid[c] for c in ytr], Xte, Lte, [cid[c] for c in yte], None, None)
    return data, classes, time.perf_counter() - t0


def macro_f1(truth, pred, k):
    f1s = []
    for c in range(k):
        tp = sum(1 for t, p in zip(truth, pred) if t == c and p == c)
        fp = sum(1 for t, p in zip(truth, pred) if t != c and p == c)
        fn = sum(1 for t, p in zip(truth, pred) if t == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / k


def blas_core():
    try:
        import threadpoolctl
        for lib in threadpoolctl.threadpool_info():
            if lib.get("internal_api") == "openblas":
                return lib.get("architecture")
    except Exception:  # threadpoolctl is optional here
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--max-length", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    spec = FAMILIES[args.family]

    t_import = time.perf_counter()
    import torch
    import torch.nn.functional as F
    t_import = time.perf_counter() - t_import
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    (Xtr, Ltr, ytr, Xte, Lte, yte, groups_te, rec_yte), classes, load_s = prepare(
        args.train, args.test, args.max_length, spec)
    Xtr, Ltr, ytr = torch.from_numpy(Xtr), torch.from_numpy(Ltr), torch.tensor(ytr)
    Xte, Lte = torch.from_numpy(Xte), torch.from_numpy(Lte)
    model = build_model(torch, args.family, Xtr.shape[2], Xtr.shape[1], len(classes))
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
                           weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)

    n = Xtr.shape[0]
    epoch_s, losses = [], []
    t_fit = time.perf_counter()
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for b in range(0, n, args.batch_size):
            idx = perm[b:b + args.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(Xtr[idx], Ltr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        epoch_s.append(time.perf_counter() - t0)
        losses.append(total / n)
    fit_s = time.perf_counter() - t_fit

    model.eval()
    chunks = []
    with torch.no_grad():
        for b in range(0, Xte.shape[0], 1024):
            chunks.append(torch.softmax(model(Xte[b:b + 1024], Lte[b:b + 1024]), dim=1))
    probs = torch.cat(chunks).double().numpy()
    preds = probs.argmax(axis=1).tolist()
    acc = sum(int(p == t) for p, t in zip(preds, yte)) / len(yte)
    res = {
        "family": args.family, "framework": "torch", "torch_version": torch.__version__,
        "threads": torch.get_num_threads(), "blas_core": blas_core(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
        "params": n_params, "n_train": int(n), "n_test": int(Xte.shape[0]),
        "input_shape": [int(Xtr.shape[1]), int(Xtr.shape[2])], "classes": classes,
        "import_seconds": t_import, "load_seconds": load_s, "fit_seconds": fit_s,
        "epoch_seconds": epoch_s,
        "epoch_seconds_median": statistics.median(epoch_s[1:] if len(epoch_s) > 1 else epoch_s),
        "loss": losses, "accuracy": acc, "macro_f1": macro_f1(yte, preds, len(classes)),
        "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if groups_te is not None:
        # Per test recording: the class of the mean window probability (what Lathe's
        # evaluator/classification does with aggregate "group"), and the majority of the
        # window predictions (ANCHORS.md; ties to the lowest class index).
        k = len(classes)
        rec_sum = np.zeros((len(rec_yte), k))
        rec_votes = np.zeros((len(rec_yte), k))
        np.add.at(rec_sum, groups_te, probs)
        np.add.at(rec_votes, (groups_te, np.asarray(preds)), 1)
        mean_pred = rec_sum.argmax(axis=1).tolist()
        vote_pred = rec_votes.argmax(axis=1).tolist()
        res["recording_accuracy"] = sum(int(p == t) for p, t in zip(mean_pred, rec_yte)) / len(rec_yte)
        res["recording_macro_f1"] = macro_f1(rec_yte, mean_pred, k)
        res["recording_accuracy_majority"] = (
            sum(int(p == t) for p, t in zip(vote_pred, rec_yte)) / len(rec_yte))
        res["n_test_recordings"] = len(rec_yte)
    text = json.dumps(res)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

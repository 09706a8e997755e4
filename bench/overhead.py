#!/usr/bin/env python3
"""PyTorch eager's side of `dtrain bench overhead` (issue 9, benchmark 1).

The same models (src/Models/Mlp.cs, src/Models/Transformer), the same generated data (src/Models/Data:
SyntheticClassification and SyntheticTokens, from the same SplitMix64 counter-based stream as
src/Contracts/Randomness/CounterRandom.cs), the same Adam settings and the same step: zero grads, forward,
cross-entropy, backward, loss.item(), optimizer step, then torch.cuda.synchronize() on CUDA. 8 batches are made
on the device before the timing and cycled, as dtrain's side does. Prints the same columns as dtrain's table;
bench/overhead.sh runs both and prints the ratio. Needs torch and numpy.
"""
import argparse
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DISTINCT_BATCHES = 8
LEARNING_RATE = 1e-3
SEED = 1
MASK = (1 << 64) - 1


# --- SplitMix64, as CounterRandom: vectorized over many independent streams ------------------------------------

def mix_int(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def mix(z):
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


class Streams:
    """One CounterRandom per index, keyed Key(seed, stream, index), all drawn at once."""

    def __init__(self, seed, stream, indices):
        base = np.uint64(mix_int((seed & MASK) ^ mix_int(stream)))
        keys = mix(base ^ np.asarray(indices, dtype=np.uint64))
        self.state = mix(keys)

    def next_uint64(self):
        self.state = mix(self.state)
        return self.state

    def next_int(self, exclusive_max):
        return (self.next_uint64() % np.uint64(exclusive_max)).astype(np.int64)

    def next_double(self):
        return (self.next_uint64() >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def next_gaussian(self):
        u1 = 1.0 - self.next_double()
        u2 = self.next_double()
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)


def classification_batch(indices, features=32, classes=4, clusters=2, spread=1.5, noise=1.6):
    """SyntheticClassification.Batch: Gaussian clusters around seeded centres."""
    centre_stream = Streams(SEED, 1, [0])
    centres = np.empty((classes, clusters, features), dtype=np.float32)
    for c in range(classes):
        for m in range(clusters):
            for d in range(features):
                centres[c, m, d] = np.float32(spread * centre_stream.next_gaussian()[0])
    rows = Streams(SEED, 2, indices)
    labels = rows.next_int(classes)
    cluster = rows.next_int(clusters)
    inputs = np.empty((len(indices), features), dtype=np.float32)
    for d in range(features):
        inputs[:, d] = centres[labels, cluster, d] + (noise * rows.next_gaussian()).astype(np.float32)
    return torch.from_numpy(inputs), torch.from_numpy(labels)


def token_batch(indices, length, vocabulary, successors=4):
    """SyntheticTokens.Batch: a seeded Markov chain, each token with `successors` equally likely next tokens."""
    table_stream = Streams(SEED, 4, range(vocabulary))
    table = np.stack([table_stream.next_int(vocabulary) for _ in range(successors)], axis=1)
    rows = Streams(SEED, 5, indices)
    token = rows.next_int(vocabulary)
    inputs = np.empty((len(indices), length), dtype=np.int64)
    targets = np.empty((len(indices), length), dtype=np.int64)
    for position in range(length):
        inputs[:, position] = token
        token = table[token, rows.next_int(successors)]
        targets[:, position] = token
    return torch.from_numpy(inputs), torch.from_numpy(targets)


# --- The models, as src/Models builds them -----------------------------------------------------------------------

class Mlp(nn.Module):
    def __init__(self, inputs, hidden, hidden_layers, outputs):
        super().__init__()
        stack = []
        for i in range(hidden_layers):
            stack += [nn.Linear(inputs if i == 0 else hidden, hidden), nn.ReLU()]
        stack.append(nn.Linear(hidden, outputs))
        self.layers = nn.Sequential(*stack)

    def forward(self, x):
        return self.layers(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.query_key_value = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)

    def forward(self, x):
        batch, positions, width = x.shape
        qkv = self.query_key_value(x).view(batch, positions, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        return self.projection(attended.transpose(1, 2).reshape(batch, positions, width))


class DecoderBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attention_norm = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, heads)
        self.mlp_norm = nn.LayerNorm(width)
        self.expand = nn.Linear(width, 4 * width)
        self.activation = nn.GELU()
        self.contract = nn.Linear(4 * width, width)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.contract(self.activation(self.expand(self.mlp_norm(x))))


class TransformerLm(nn.Module):
    def __init__(self, vocabulary, context, width, layers, heads):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(DecoderBlock(width, heads) for _ in range(layers))
        self.final_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)

    def forward(self, x):
        where = torch.arange(x.shape[1], device=x.device)
        x = self.tokens(x) + self.positions(where)
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x))


# --- The timed loop ----------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "transformer-lm"], default="mlp")
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--vocabulary", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    args = parser.parse_args()

    # dtrain gives its one rank all the machine's logical cores.
    torch.set_num_threads(os.cpu_count())
    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu")
    torch.manual_seed(SEED)
    if args.model == "mlp":
        model = Mlp(32, args.width, args.layers, 4)
        make_batch = classification_batch
        shape = f"{args.layers} hidden layers of {args.width}"
    else:
        model = TransformerLm(args.vocabulary, args.context, args.width, args.layers, args.heads)
        make_batch = lambda indices: token_batch(indices, args.context, args.vocabulary)
        shape = (f"{args.layers} blocks, width {args.width}, {args.heads} heads, context {args.context}, "
                 f"vocabulary {args.vocabulary}")
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    batches = [tuple(t.to(device) for t in make_batch(range(i * args.batch, (i + 1) * args.batch)))
               for i in range(DISTINCT_BATCHES)]

    seconds, first_loss, loss = [], float("nan"), float("nan")
    for step in range(args.warmup + args.steps):
        inputs, targets = batches[step % DISTINCT_BATCHES]
        started = time.perf_counter()
        model.zero_grad()
        batch_loss = F.cross_entropy(model(inputs).flatten(0, -2), targets.flatten())
        batch_loss.backward()
        loss = batch_loss.item()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step == 0:
            first_loss = loss
        if step >= args.warmup:
            seconds.append(time.perf_counter() - started)

    where = f"cuda ({torch.cuda.get_device_name()})" if device.type == "cuda" else "cpu"
    parameters = sum(p.numel() for p in model.parameters())
    median = statistics.median(seconds)
    print(f"# bench/overhead.py: PyTorch {torch.__version__} eager, {args.model} ({shape}) on {where}, "
          f"{torch.get_num_threads()} torch threads, batch {args.batch}, adam lr {LEARNING_RATE}, {args.steps} timed steps "
          f"after {args.warmup} warm-up, {DISTINCT_BATCHES} batches made before timing and cycled")
    print(f"# {'framework':<9} {'model':<14} {'device':>6} {'ranks':>5} {'parameters':>11} {'median(ms)':>10} {'mean(ms)':>9} "
          f"{'samples/s':>10} {'sync(ms)':>9} {'sync_share':>10} {'first_loss':>10} {'last_loss':>9}")
    print(f"  {'pytorch':<9} {args.model:<14} {device.type:>6} {1:>5} {parameters:>11} {median * 1e3:>10.3f} "
          f"{statistics.mean(seconds) * 1e3:>9.3f} {args.batch / median:>10.0f} {'-':>9} {'-':>10} {first_loss:>10.4f} {loss:>9.4f}")


if __name__ == "__main__":
    main()

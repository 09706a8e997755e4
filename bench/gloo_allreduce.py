#!/usr/bin/env python3
"""PyTorch gloo's side of bench/collectives-vs-gloo.sh: float32 all_reduce (sum) between RANKS local processes
over loopback TCP, timed the way `dtrain bench collectives` times it (warm-up calls, a barrier, ITERS calls back
to back, the slowest rank's mean). Prints one line per size: size in bytes, time in microseconds, busbw in GB/s
(algbw x 2(n-1)/n, nccl-tests' definition). Needs torch.
"""
import argparse
import os
import queue
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def run(rank, world, port, sizes, iters, warmup, results):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    os.environ["USE_LIBUV"] = "0"   # Debian's torch is built without libuv, which its TCPStore would ask for
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    for size in sizes:
        data = torch.randn(size // 4)
        for _ in range(warmup):
            dist.all_reduce(data)
        dist.barrier()
        start = time.perf_counter()
        for _ in range(iters):
            dist.all_reduce(data)
        mean = torch.tensor([(time.perf_counter() - start) / iters], dtype=torch.float64)
        dist.all_reduce(mean, op=dist.ReduceOp.MAX)
        if rank == 0:
            results.put((size, mean.item()))
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64 << 10, 64 << 20])
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    context = mp.get_context("spawn")
    results = context.Queue()
    port = free_port()
    processes = [context.Process(target=run, args=(r, args.ranks, port, args.sizes, args.iters, args.warmup, results))
                 for r in range(args.ranks)]
    for p in processes:
        p.start()
    rows = []
    while len(rows) < len(args.sizes):
        try:
            rows.append(results.get(timeout=5))
        except queue.Empty:
            # A rank that failed sends nothing: stop the others rather than wait for ever.
            if any(p.exitcode not in (None, 0) for p in processes):
                for p in processes:
                    p.kill()
                raise SystemExit("a gloo rank failed")
    for p in processes:
        p.join()
    factor = 2 * (args.ranks - 1) / args.ranks
    for size, seconds in rows:
        print(f"{size} {seconds * 1e6:.1f} {size / seconds / 1e9 * factor:.4f}")


if __name__ == "__main__":
    main()

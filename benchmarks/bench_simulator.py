"""Simulator speed: prints numbers and ratios against the targets (run on demand, not a test).

    python benchmarks/bench_simulator.py
"""
import numpy as np

import atlas_xl
from atlas_xl import queueing
from bench_planner import median_seconds, row


def main():
    atlas_xl.load_catalog()
    one = median_seconds(lambda: atlas_xl.simulate("nvidia_h100_8x_nvlink", "llama_70b_chat"), repeat=7, number=300)
    row("simulate() one configuration", one, 100e-6, "µs", 1e6)
    knobs = {"cuda_graphs": False, "gpudirect_rdma": False, "fabric": "roce", "virt": "sriov"}
    opt = median_seconds(lambda: atlas_xl.optimize("nvidia_h100_8x_nvlink", "llama_70b_chat", knobs), repeat=7, number=20)
    row("optimize() from all knobs off", opt, 20e-3, "ms", 1e3)
    sched = median_seconds(lambda: atlas_xl.run_schedule("nvidia_h100_8x_nvlink", "llama_70b_chat"), repeat=7, number=50)
    print(f"{'run_schedule() three phases (no target)':<44} {sched * 1e3:>12.3f} ms")

    rng = np.random.default_rng(0)
    servers = rng.integers(1, 65, 1_000_000)
    arrival = rng.uniform(0.05, 0.99, servers.size) * servers  # rho in (0.05, 0.99), E[S] = 1
    waits = median_seconds(lambda: queueing.mean_wait(arrival, 1.0, servers, 1.3, 0.8), repeat=3, number=1)
    row("mean_wait() over 1,000,000 (lambda, m) pairs", waits, 0.5, "s")


if __name__ == "__main__":
    main()

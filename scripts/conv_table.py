#!/usr/bin/env python3
"""Markdown table from bench_conv's JSON (--benchmark_format=json, repetitions
allowed: medians are taken): per layer and thread count, normrt's path and
GFLOP/s, oneDNN's convolution and sgemm on the same layer, the ratios, and
normrt's fraction of the FMA peak measured in the same run.
  bench_conv --benchmark_out=conv.json ...; scripts/conv_table.py conv.json [avx512|avx2]
The FMA peak is the path's (default: avx512 when it ran, else avx2); with
NORMRT_ISA=avx2 pass avx2."""
import collections
import json
import statistics
import sys


def main(path, isa=None):
    runs = sorted(json.load(open(path))["benchmarks"], key=lambda b: b.get("family_index", 0))
    rate = collections.defaultdict(list)
    label = {}
    for b in runs:
        if b.get("run_type") == "aggregate" or "GFLOPS" not in b:
            continue
        name = b["run_name"].split("/min_time")[0]
        rate[name].append(b["GFLOPS"] / 1e9 if b["GFLOPS"] > 1e6 else b["GFLOPS"])
        label[name] = b.get("label", "")
    med = {k: statistics.median(v) for k, v in rate.items()}
    if isa is None:
        isa = "avx512" if "FmaPeak/avx512" in med else "avx2"
    peak = med.get("FmaPeak/" + isa)
    print("FMA peak (register-only loop, one core, %s): %.1f GFLOP/s" % (isa, peak or 0))
    print()
    print("| layer | T | normrt path | normrt GFLOP/s | oneDNN conv | oneDNN sgemm | normrt / conv | normrt / sgemm | of FMA peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in med:
        if not k.startswith("Conv/normrt/"):
            continue
        layer, t = k.split("/")[2], k.split("/")[3]
        n = med[k]
        conv = med.get("Conv/oneDNN/%s/%s" % (layer, t))
        gemm = med.get("Conv/oneDNN_sgemm/%s/%s" % (layer, t))
        cell = lambda v: "%.1f" % v if v else "-"
        ratio = lambda v: "%.2f" % (n / v) if v else "-"
        frac = "%.0f%%" % (100 * n / peak / int(t[1:])) if peak else "-"
        print("| %s | %s | %s | %.1f | %s | %s | %s | %s | %s |" % (
            layer, t[1:], label[k], n, cell(conv), cell(gemm), ratio(conv), ratio(gemm), frac))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)

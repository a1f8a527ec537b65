#!/usr/bin/python3
"""Tests of `normrt bench`: the JSON report's fields and their consistency, the
profile against the run time, the Chrome trace, --check, and bad flags.
Never asserts an absolute time.  Usage: check_bench.py NORMRT EXAMPLE_DIR WORK_DIR"""
import json
import os
import subprocess
import sys

normrt, example, work = sys.argv[1], sys.argv[2], sys.argv[3]
model = os.path.join(example, "model.onnx")
os.makedirs(work, exist_ok=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def bench(*args, expect=0):
    r = subprocess.run([normrt, "bench", *args], capture_output=True, text=True, timeout=300)
    check(r.returncode == expect, f"exit {r.returncode} (expected {expect}) for {args}: {r.stderr.strip()}")
    return r


# 1. JSON report, two shape sets, the stopping rule honoured.
out = os.path.join(work, "bench.json")
times = os.path.join(work, "times.csv")
bench(model, "--shape", "x=1x16x64", "--shape", "x=2x32x64", "--warmup", "3", "--warmup-ms", "0",
      "--iterations", "40", "--duration", "0.2", "--json", out, "--export-times", times, "--percentiles", "50,75,99")
report = json.load(open(out))
check(isinstance(report, list) and len(report) == 2, "one JSON object per shape set")
for r in report:
    for key in ["model", "threads", "isa", "session_create_ms", "first_run_ms", "iterations", "duration_s",
                "latency_ms", "cv", "throughput_per_s", "peak_rss_mb", "normrt_version", "build_type",
                "cpu_utilization", "percentiles_ms"]:
        check(key in r, f"key {key} in the report")
    lat = r["latency_ms"]
    for key in ["min", "mean", "median", "p90", "p95", "p99", "max", "stddev"]:
        check(key in lat, f"latency_ms.{key}")
    check(lat["min"] <= lat["median"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"],
          f"min <= median <= p90 <= p95 <= p99 <= max: {lat}")
    check(lat["min"] <= lat["mean"] <= lat["max"], "min <= mean <= max")
    check(r["iterations"] >= 40, f"iterations {r['iterations']} >= 40 requested")
    check(r["duration_s"] >= 0.2, f"duration {r['duration_s']} >= 0.2 s requested")
    check(abs(r["throughput_per_s"] - r["iterations"] / r["duration_s"]) <= 1e-6 * r["throughput_per_s"] + 1e-9,
          "throughput = iterations / duration")
    check(r["percentiles_ms"]["p50"] == lat["median"], "p50 is the median")
    check(lat["median"] <= r["percentiles_ms"]["p75"] <= lat["p99"], "p75 between median and p99")
    check(r["cv"] >= 0 and abs(r["cv"] - lat["stddev"] / lat["mean"]) < 1e-9, "cv = stddev / mean")
    check(r["isa"] in ("sse2", "avx2", "avx512"), "isa names a path")
    check(r["peak_rss_mb"] > 0, "peak RSS reported")
check(report[0]["shapes"] == "x=1x16x64" and report[1]["shapes"] == "x=2x32x64", "shape sets labelled")
rows = open(times).read().splitlines()
check(rows[0] == "set,thread,iteration,latency_ms", "export-times header")
check(len(rows) - 1 == report[0]["iterations"] + report[1]["iterations"], "one exported time per timed run")

# 2. --max-iterations caps; concurrency spreads runs over threads.
bench(model, "--warmup", "0", "--warmup-ms", "0", "--iterations", "5", "--max-iterations", "7", "--duration", "10",
      "--concurrency", "3", "--json", out)
r = json.load(open(out))[0]
check(r["iterations"] == 7, f"--max-iterations 7 stops at 7 (got {r['iterations']})")
check(r["concurrency"] == 3, "concurrency recorded")

# 3. Profile: per-node time within tolerance of the run time (sequential executor),
#    Chrome trace events for every node of every profiled run.
trace = os.path.join(work, "trace.json")
bench(model, "--shape", "x=2x64x64", "--warmup", "2", "--warmup-ms", "0", "--iterations", "5", "--duration", "0",
      "--inter-op", "off", "--optimize", "none", "--profile=" + trace, "--profile-runs", "10", "--json", out)
r = json.load(open(out))[0]
p = r["profile"]
check(p["runs"] == 10, "profile runs")
check(0.3 * p["run_ms_mean"] <= p["node_ms_sum_mean"] <= 1.02 * p["run_ms_mean"],
      f"node time sum {p['node_ms_sum_mean']} within tolerance of the run time {p['run_ms_mean']}")
check(abs(sum(o["percent_of_run"] for o in p["op_types"]) - 100 * p["node_ms_sum_mean"] / p["run_ms_mean"]) < 1e-6,
      "op-type percentages add up to the node share of the run")
ops = {o["op"]: o for o in p["op_types"]}
check(ops.get("LayerNormalization", {}).get("count") == 20, "2 LayerNorm nodes x 10 runs")
check(all(isinstance(n.get("detail"), str) for n in p["nodes"]), "every profiled node has a detail string")
for n in p["nodes"]:
    if n["op"] in ("LayerNormalization", "Add", "BatchNormalization", "InstanceNormalization", "Relu"):
        check("fraction_of_copy" in n and n["gb_per_s"] > 0, f"bandwidth figures for {n['name']}")
events = json.load(open(trace))["traceEvents"]
check(len(events) == 10 * len(p["nodes"]), "a trace event per node per profiled run")
check(all(e["ph"] == "X" and e["dur"] >= 0 for e in events), "complete events with durations")

# 4. --check against a test_data_set, pass and fail; --load-only; --quiet.
data = os.path.join(example, "test_data_set_0")
bench(model, "--data-dir", data, "--check", "--warmup", "0", "--warmup-ms", "0", "--iterations", "2", "--duration", "0")
r = bench(model, "--data-dir", data, "--check", "--atol", "0", "--rtol", "0", "--warmup", "0", "--warmup-ms", "0",
          "--iterations", "2", "--duration", "0", expect=1)
check("FAIL" in r.stdout, "mismatch reported")
bench(model, "--load-only", "--json", out)
r = json.load(open(out))[0]
check("session_create_ms" in r and "latency_ms" not in r, "--load-only reports creation only")
r = bench(model, "--quiet", "--warmup", "0", "--warmup-ms", "0", "--iterations", "3", "--duration", "0")
check(len(r.stdout.strip().splitlines()) == 1 and "median_ms=" in r.stdout, "--quiet prints one line")

# 5. Bad flags and inputs: exit 2 with a message naming the problem.
for args, msg in [(["--iterations", "0"], "--iterations expects a whole number from 1"),
                  (["--warmup-ms", "-1"], "--warmup-ms expects a number >= 0"),
                  (["--percentiles", "50,abc"], "--percentiles expects numbers"),
                  (["--concurrency", "0"], "--concurrency expects"),
                  (["--shape", "nope=1x2"], "the model has no input 'nope'"),
                  (["--shape", "x=1x5"], "input 'x' has shape [1,5]"),
                  (["--input", "x=" + os.path.join(data, "input_1.pb")], "input 'x' has shape"),
                  (["--check"], "--check needs --data-dir"),
                  (["--data-dir", "/nonexistent"], "is not a folder"),
                  (["--max-iterations", "5", "--iterations", "10"], "--max-iterations (5) is below"),
                  (["--profile="], "needs a value"),
                  (["--bogus"], "unknown option '--bogus'")]:
    r = bench(model, "--warmup", "0", "--warmup-ms", "0", "--iterations", "1", "--duration", "0", *args, expect=2)
    check(msg in r.stderr, f"message '{msg}' for {args}: got {r.stderr.strip()}")

print(f"{len(failures)} failed" if failures else "all bench checks passed")
sys.exit(1 if failures else 0)

// normrt bench: latency and throughput of a model, trtexec-style stopping
// rule, JSON report, and a per-operator profile taken in a separate run so
// profiling never disturbs the headline numbers.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "cli_common.h"
#include "json_writer.h"

namespace normrt::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* kBenchHelp =
    "usage: normrt bench MODEL [options]\n"
    "inputs (seeded random unless given):\n"
    "  --input NAME=FILE      input from a .npy or .pb file (repeatable)\n"
    "  --data-dir DIR         inputs from DIR/input_N.pb (an ONNX test_data_set folder)\n"
    "  --shape NAME=1x128     fix dynamic dims; give an input k shapes to benchmark k shape sets\n"
    "  --seed S               seed for random inputs (default 0)\n"
    "stopping rule (as trtexec):\n"
    "  --warmup N             at least N warm-up runs (default 10)\n"
    "  --warmup-ms T          and at least T ms of warm-up (default 1000)\n"
    "  --iterations N         then at least N timed runs (default 100)\n"
    "  --duration S           and at least S seconds of timed runs (default 3)\n"
    "  --max-iterations N     but never more than N timed runs (default 1000000)\n"
    "execution:\n"
    "  --threads N            intra-op threads (default: hardware concurrency)\n"
    "  --inter-op on|off      run independent operators concurrently (default on)\n"
    "  --optimize LEVEL       none, basic or all (default all)\n"
    "  --concurrency K        K threads calling run on one session (throughput mode, default 1)\n"
    "report:\n"
    "  --percentiles LIST     percentiles to print, e.g. 50,90,99 (default 50,90,95,99)\n"
    "  --json FILE            write the report as JSON (one object per shape set)\n"
    "  --export-times FILE    write every timed run's latency (CSV: set,thread,iteration,latency_ms)\n"
    "  --quiet                one summary line per shape set\n"
    "  --profile[=FILE]       after the timed runs, profile separate runs per node and op type;\n"
    "                         FILE ending in .json gets a Chrome trace, other FILEs the tables\n"
    "  --profile-runs N       runs to profile (default 20)\n"
    "  --check                compare the first run's outputs with --data-dir's output_N.pb\n"
    "  --rtol R, --atol A     tolerances for --check (default 1e-3, 1e-7, as ONNX's backend tests)\n"
    "  --load-only            measure session creation (load + plan) and exit\n";

struct Stats {
  double min = 0, mean = 0, median = 0, max = 0, stddev = 0, cv = 0;
  std::map<double, double> pct;  // percentile → ms
};

Stats stats_of(std::vector<double> ms, const std::vector<double>& percentiles) {
  Stats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.min = ms.front();
  s.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean = sum / static_cast<double>(ms.size());
  double sq = 0;
  for (double v : ms) sq += (v - s.mean) * (v - s.mean);
  s.stddev = ms.size() > 1 ? std::sqrt(sq / static_cast<double>(ms.size() - 1)) : 0.0;
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0.0;
  s.median = percentile(ms, 50);
  for (double p : {50.0, 90.0, 95.0, 99.0}) s.pct[p] = percentile(ms, p);
  for (double p : percentiles) s.pct[p] = percentile(ms, p);
  return s;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::vector<double> parse_percentiles(const std::string& s) {
  std::vector<double> v;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    char* end = nullptr;
    double p = std::strtod(part.c_str(), &end);
    if (part.empty() || *end != '\0' || !(p >= 0 && p <= 100))
      throw UsageError{"--percentiles expects numbers from 0 to 100 separated by commas, got '" + s + "'"};
    v.push_back(p);
  }
  return v;
}

std::string pct_key(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%g", p);
  return buf;
}

struct Timed {
  std::vector<std::vector<double>> per_thread_ms;  // latencies of timed runs, per calling thread
  double wall_s = 0;
  double cpu_util = 0;  // CPU seconds / wall seconds (1.0 = one core busy)
  int64_t count = 0;
};

struct StopRule {
  int64_t warmup = 10;
  double warmup_ms = 1000;
  int64_t iterations = 100;
  double duration_s = 3;
  int64_t max_iterations = 1000000;
};

// Warm-up, then the timed runs: at least `iterations` runs and `duration_s`
// seconds, at most `max_iterations`, spread over `concurrency` calling threads.
Timed run_timed(const Session& s, const NamedTensors& inputs, const StopRule& rule, int concurrency, double first_ms) {
  auto w0 = Clock::now();
  for (int64_t i = 0; i < rule.warmup || ms_since(w0) < rule.warmup_ms; ++i) s.run(inputs);
  // Reserve for the runs expected, so the timed loop does not allocate.
  const double warm_mean_ms = std::max(1e-3, std::min(first_ms, ms_since(w0) / std::max<int64_t>(1, rule.warmup)));
  const int64_t expect = std::min<int64_t>(
      rule.max_iterations,
      std::max<int64_t>(rule.iterations, static_cast<int64_t>(1.5 * rule.duration_s * 1000.0 / warm_mean_ms) + 16));
  Timed t;
  t.per_thread_ms.resize(static_cast<size_t>(concurrency));
  for (auto& v : t.per_thread_ms) v.reserve(static_cast<size_t>(expect * 2 / concurrency + 16));
  std::atomic<int64_t> started{0};
  std::atomic<bool> stop{false};
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  auto worker = [&](size_t k) {
    std::vector<double>& mine = t.per_thread_ms[k];
    while (!stop.load(std::memory_order_relaxed)) {
      const int64_t n = started.fetch_add(1);
      if (n >= rule.max_iterations) break;
      const auto a = Clock::now();
      s.run(inputs);
      const auto b = Clock::now();
      mine.push_back(std::chrono::duration<double, std::milli>(b - a).count());
      if (n + 1 >= rule.iterations && std::chrono::duration<double>(b - t0).count() >= rule.duration_s)
        stop.store(true, std::memory_order_relaxed);
    }
  };
  if (concurrency == 1) {
    worker(0);
  } else {
    std::vector<std::thread> pool;
    for (int k = 0; k < concurrency; ++k) pool.emplace_back(worker, static_cast<size_t>(k));
    for (auto& th : pool) th.join();
  }
  t.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  t.cpu_util = t.wall_s > 0 ? (cpu_seconds() - cpu0) / t.wall_s : 0;
  for (auto& v : t.per_thread_ms) t.count += static_cast<int64_t>(v.size());
  return t;
}

// ---- profile ---------------------------------------------------------------

bool is_normalization(const std::string& op) { return op.find("Norm") != std::string::npos; }
bool is_elementwise(const std::string& op) {
  static const char* ops[] = {"Add", "Sub", "Mul", "Div", "Relu", "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Cast"};
  for (const char* o : ops)
    if (op == o) return true;
  return false;
}

// A plain float copy loop, kept a loop (GCC would otherwise call memcpy, whose
// `rep movsb` path runs ~20x slower on some CPUs when source and destination
// are a multiple of 4 KiB apart — not what a kernel's loads and stores see).
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns"))) void copy_floats(const float* x, float* y,
                                                                                         size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i];
}

// Copy bandwidth (bytes read + written per second) for an output of `bytes`:
// the yardstick for memory-bound kernels of the same size, median of repeats,
// on tensors allocated the way the runtime allocates them.
double copy_gbps(uint64_t bytes) {
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float));
  if (n == 0) return 0;
  Tensor a(DType::Float32, {n}), b(DType::Float32, {n});
  std::vector<double> gbps;
  const auto t0 = Clock::now();
  while (gbps.size() < 5 || (ms_since(t0) < 20 && gbps.size() < 10000)) {
    const auto s = Clock::now();
    copy_floats(a.data<float>(), b.data<float>(), static_cast<size_t>(n));
    const double sec = std::chrono::duration<double>(Clock::now() - s).count();
    if (sec > 0) gbps.push_back(2.0 * static_cast<double>(n * 4) / sec / 1e9);
  }
  return percentile(gbps, 50);
}

struct NodeAgg {
  std::string name, op;
  std::string detail;  // how the node runs (NodeProfile::detail), e.g. Conv's path
  std::vector<double> us;
  uint64_t bytes = 0;  // read + written per run
  uint64_t out_bytes = 0;
};

struct ProfileResult {
  int runs = 0;
  double run_ms_mean = 0, node_ms_sum_mean = 0;
  std::vector<NodeAgg> nodes;
  std::map<std::string, double> copy_gbps_by_size;
  std::vector<RunProfile> raw;
};

ProfileResult run_profile(const Session& s, const NamedTensors& inputs, int runs) {
  ProfileResult r;
  r.runs = runs;
  for (int i = 0; i < runs; ++i) {
    RunProfile p;
    s.run(inputs, &p);
    r.raw.push_back(std::move(p));
  }
  std::map<std::string, size_t> index;
  double total = 0, node_total = 0;
  for (auto& p : r.raw) {
    total += p.total_us;
    for (auto& n : p.nodes) {
      node_total += n.duration_us;
      auto [it, fresh] = index.emplace(n.name, r.nodes.size());
      if (fresh)
        r.nodes.push_back(NodeAgg{n.name, n.op_type, n.detail, {}, n.bytes_read + n.bytes_written, n.bytes_written});
      r.nodes[it->second].us.push_back(n.duration_us);
    }
  }
  r.run_ms_mean = total / 1000.0 / runs;
  r.node_ms_sum_mean = node_total / 1000.0 / runs;
  for (auto& n : r.nodes)
    if ((is_normalization(n.op) || is_elementwise(n.op)) && n.out_bytes) {
      const std::string key = std::to_string(n.out_bytes);
      if (!r.copy_gbps_by_size.count(key)) r.copy_gbps_by_size[key] = copy_gbps(n.out_bytes);
    }
  return r;
}

struct OpAgg {
  std::string op;
  std::vector<double> us;
  double bytes = 0;
};

std::vector<OpAgg> by_op_type(const ProfileResult& r) {
  std::map<std::string, OpAgg> m;
  for (auto& n : r.nodes) {
    OpAgg& a = m[n.op];
    a.op = n.op;
    a.us.insert(a.us.end(), n.us.begin(), n.us.end());
    a.bytes += static_cast<double>(n.bytes) * static_cast<double>(n.us.size());
  }
  std::vector<OpAgg> v;
  for (auto& [k, a] : m) v.push_back(a);
  std::sort(v.begin(), v.end(), [](const OpAgg& a, const OpAgg& b) {
    double ta = 0, tb = 0;
    for (double x : a.us) ta += x;
    for (double x : b.us) tb += x;
    return ta > tb;
  });
  return v;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

void write_profile_tables(std::FILE* f, const ProfileResult& r) {
  const double run_us_total = r.run_ms_mean * 1000.0 * r.runs;
  std::fprintf(f, "profile: %d separate runs, mean run %.4f ms, node time sum %.4f ms per run\n", r.runs, r.run_ms_mean,
               r.node_ms_sum_mean);
  std::fprintf(f, "by op type:\n  %-26s %7s %11s %10s %10s %7s\n", "op", "count", "total_ms", "mean_us", "median_us",
               "%run");
  for (auto& a : by_op_type(r)) {
    const double t = sum(a.us);
    std::fprintf(f, "  %-26s %7zu %11.4f %10.2f %10.2f %6.1f%%\n", a.op.c_str(), a.us.size(), t / 1000.0,
                 t / static_cast<double>(a.us.size()), percentile(a.us, 50), 100.0 * t / run_us_total);
  }
  std::fprintf(f, "by node:\n  %-28s %-22s %10s %10s %6s %10s %8s %6s  %s\n", "node", "op", "mean_us", "median_us",
               "%run", "MB_moved", "GB/s", "%copy", "detail");
  for (auto& n : r.nodes) {
    const double med = percentile(n.us, 50);
    const double gbps = med > 0 ? static_cast<double>(n.bytes) / (med * 1e-6) / 1e9 : 0;
    std::string copy = "-";
    auto it = r.copy_gbps_by_size.find(std::to_string(n.out_bytes));
    if ((is_normalization(n.op) || is_elementwise(n.op)) && it != r.copy_gbps_by_size.end() && it->second > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * gbps / it->second);
      copy = buf;
    }
    std::fprintf(f, "  %-28s %-22s %10.2f %10.2f %5.1f%% %10.3f %8.2f %6s  %s\n", n.name.c_str(), n.op.c_str(),
                 sum(n.us) / static_cast<double>(n.us.size()), med, 100.0 * sum(n.us) / run_us_total,
                 static_cast<double>(n.bytes) / 1e6, gbps, copy.c_str(), n.detail.empty() ? "-" : n.detail.c_str());
  }
  std::fprintf(f,
               "  (GB/s = bytes read + written / median time (output allocation included); %%copy = that against a\n"
               "   copy loop of the output's size measured before profiling: 100%% = at the memory-bandwidth limit;\n"
               "   detail = how the node runs, e.g. Conv's path)\n");
}

void write_chrome_trace(const std::string& path, const ProfileResult& r) {
  std::ofstream f(path);
  if (!f) throw Error(ErrorCode::IO, "cannot write '" + path + "'");
  JsonWriter j(f);
  j.begin_object();
  j.key("traceEvents");
  j.begin_array();
  double offset = 0;
  for (size_t run = 0; run < r.raw.size(); ++run) {
    for (auto& n : r.raw[run].nodes) {
      j.begin_object();
      j.field("name", n.name);
      j.field("cat", n.op_type);
      j.field("ph", "X");
      j.field("ts", offset + n.start_us);
      j.field("dur", n.duration_us);
      j.field("pid", int64_t{0});
      j.field("tid", static_cast<int64_t>(n.thread));
      j.key("args");
      j.begin_object();
      j.field("run", static_cast<int64_t>(run));
      j.field("bytes", static_cast<int64_t>(n.bytes_read + n.bytes_written));
      if (!n.detail.empty()) j.field("detail", n.detail);
      j.end_object();
      j.end_object();
    }
    offset += r.raw[run].total_us + 10;
  }
  j.end_array();
  j.field("displayTimeUnit", "ms");
  j.end_object();
  f << "\n";
}

void profile_json(JsonWriter& j, const ProfileResult& r) {
  const double run_us_total = r.run_ms_mean * 1000.0 * r.runs;
  j.key("profile");
  j.begin_object();
  j.field("runs", static_cast<int64_t>(r.runs));
  j.field("run_ms_mean", r.run_ms_mean);
  j.field("node_ms_sum_mean", r.node_ms_sum_mean);
  j.key("op_types");
  j.begin_array();
  for (auto& a : by_op_type(r)) {
    const double t = sum(a.us);
    j.begin_object();
    j.field("op", a.op);
    j.field("count", static_cast<int64_t>(a.us.size()));
    j.field("total_ms", t / 1000.0);
    j.field("mean_us", t / static_cast<double>(a.us.size()));
    j.field("median_us", percentile(a.us, 50));
    j.field("percent_of_run", 100.0 * t / run_us_total);
    j.end_object();
  }
  j.end_array();
  j.key("nodes");
  j.begin_array();
  for (auto& n : r.nodes) {
    const double med = percentile(n.us, 50);
    const double gbps = med > 0 ? static_cast<double>(n.bytes) / (med * 1e-6) / 1e9 : 0;
    j.begin_object();
    j.field("name", n.name);
    j.field("op", n.op);
    j.field("detail", n.detail);
    j.field("count", static_cast<int64_t>(n.us.size()));
    j.field("mean_us", sum(n.us) / static_cast<double>(n.us.size()));
    j.field("median_us", med);
    j.field("percent_of_run", 100.0 * sum(n.us) / run_us_total);
    j.field("bytes_moved", static_cast<int64_t>(n.bytes));
    j.field("gb_per_s", gbps);
    auto it = r.copy_gbps_by_size.find(std::to_string(n.out_bytes));
    if (it != r.copy_gbps_by_size.end()) {
      j.field("copy_gb_per_s", it->second);
      j.field("fraction_of_copy", it->second > 0 ? gbps / it->second : 0.0);
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2,
                      {"--input", "--data-dir", "--shape", "--seed", "--warmup", "--warmup-ms", "--iterations",
                       "--duration", "--max-iterations", "--threads", "--inter-op", "--optimize", "--concurrency",
                       "--percentiles", "--json", "--export-times", "--profile-runs", "--rtol", "--atol"},
                      {"--help", "--quiet", "--check", "--load-only"}, {"--profile"});
  if (a.has("--help")) return std::fputs(kBenchHelp, stdout), 0;
  if (a.positional.size() != 1) throw UsageError{"bench takes one MODEL argument"};
  const std::string model = a.positional[0];
  StopRule rule;
  rule.warmup = a.get_int("--warmup", 10, 0, 100000000);
  rule.warmup_ms = a.get_double("--warmup-ms", 1000, 0);
  rule.iterations = a.get_int("--iterations", 100, 1, 100000000);
  rule.duration_s = a.get_double("--duration", 3, 0);
  rule.max_iterations = a.get_int("--max-iterations", 1000000, 1, 1000000000);
  if (rule.max_iterations < rule.iterations)
    throw UsageError{"--max-iterations (" + std::to_string(rule.max_iterations) + ") is below --iterations (" +
                     std::to_string(rule.iterations) + ")"};
  const int concurrency = static_cast<int>(a.get_int("--concurrency", 1, 1, 1024));
  const std::vector<double> pcts = parse_percentiles(a.get("--percentiles", "50,90,95,99"));
  const bool quiet = a.has("--quiet"), check = a.has("--check"), load_only = a.has("--load-only");
  const bool profile = a.has("--profile");
  const std::string profile_file = a.get("--profile", "");
  const int profile_runs = static_cast<int>(a.get_int("--profile-runs", 20, 1, 100000));
  const double rtol = a.get_double("--rtol", 1e-3, 0), atol = a.get_double("--atol", 1e-7, 0);
  const std::string json_path = a.get("--json", ""), times_path = a.get("--export-times", "");
  if (check && !a.values.count("--data-dir")) throw UsageError{"--check needs --data-dir with output_N.pb files"};
  SessionOptions opts = session_options(a);

  const auto c0 = Clock::now();
  Session s(model, opts);
  const double create_ms = ms_since(c0);
  InputPlan plan = parse_input_plan(s, a);

  std::ofstream json_file, times_file;
  if (!json_path.empty()) {
    json_file.open(json_path);
    if (!json_file) throw Error(ErrorCode::IO, "cannot write '" + json_path + "'");
  }
  if (!times_path.empty()) {
    times_file.open(times_path);
    if (!times_file) throw Error(ErrorCode::IO, "cannot write '" + times_path + "'");
    times_file << "set,thread,iteration,latency_ms\n";
  }
  JsonWriter j(json_file);
  if (!json_path.empty()) j.begin_array();
  auto common_json = [&]() {
    j.field("model", model);
    j.field("normrt_version", version());
    j.field("build_type", build_type());
    j.field("isa", active_isa());
    j.field("threads", static_cast<int64_t>(s.threads()));
    j.field("inter_op", opts.inter_op);
    j.field("concurrency", static_cast<int64_t>(concurrency));
    j.field("session_create_ms", create_ms);
  };

  if (!quiet)
    std::printf(
        "normrt %s (%s)  model %s\nisa %s, threads %d, inter-op %s, concurrency %d\nsession creation (load + "
        "plan): %.3f ms\n",
        version(), build_type(), model.c_str(), active_isa(), s.threads(), opts.inter_op ? "on" : "off", concurrency,
        create_ms);
  if (load_only) {
    if (quiet) std::printf("model=%s session_create_ms=%.3f\n", model.c_str(), create_ms);
    if (!json_path.empty()) {
      j.begin_object();
      common_json();
      j.field("peak_rss_mb", peak_rss_mb());
      j.end_object();
      j.end_array();
      json_file << "\n";
    }
    return 0;
  }

  bool mismatch = false;
  for (size_t set = 0; set < plan.shape_sets.size(); ++set) {
    const std::string label = shape_set_label(plan.shape_sets[set]);
    NamedTensors inputs = make_inputs(s, plan, plan.shape_sets[set]);
    const auto f0 = Clock::now();
    NamedTensors first = s.run(inputs);
    const double first_ms = ms_since(f0);
    if (check) {
      auto expected = read_expected_outputs(s, plan.data_dir);
      for (size_t i = 0; i < first.size(); ++i) {
        if (!expected[i]) continue;
        Compare c = compare(first[i].second, *expected[i], rtol, atol);
        mismatch = mismatch || !c.pass;
        if (!quiet || !c.pass)
          std::printf("check %-24s max_abs %.3g  max_rel %.3g  %s%s%s\n", first[i].first.c_str(), c.max_abs, c.max_rel,
                      c.pass ? "PASS" : "FAIL", c.why.empty() ? "" : ": ", c.why.c_str());
      }
    }
    Timed t = run_timed(s, inputs, rule, concurrency, first_ms);
    std::vector<double> all;
    for (auto& v : t.per_thread_ms) all.insert(all.end(), v.begin(), v.end());
    Stats st = stats_of(all, pcts);
    const double throughput = t.wall_s > 0 ? static_cast<double>(t.count) / t.wall_s : 0;
    const double rss = peak_rss_mb();
    if (!times_path.empty())
      for (size_t k = 0; k < t.per_thread_ms.size(); ++k)
        for (size_t i = 0; i < t.per_thread_ms[k].size(); ++i)
          times_file << set << "," << k << "," << i << "," << t.per_thread_ms[k][i] << "\n";

    if (quiet) {
      std::printf(
          "model=%s shapes=%s threads=%d iterations=%lld median_ms=%.4f p90_ms=%.4f p99_ms=%.4f cv=%.3f "
          "throughput_per_s=%.1f\n",
          model.c_str(), label.c_str(), s.threads(), static_cast<long long>(t.count), st.median, st.pct[90], st.pct[99],
          st.cv, throughput);
    } else {
      std::printf("\nshapes: %s\n", label.c_str());
      std::printf("  first run (cold, includes planning for new shapes): %.4f ms\n", first_ms);
      std::printf("  timed runs: %lld in %.3f s\n", static_cast<long long>(t.count), t.wall_s);
      std::printf("  latency ms: min %.4f  mean %.4f  median %.4f  max %.4f  stddev %.4f  cv %.1f%%\n", st.min, st.mean,
                  st.median, st.max, st.stddev, 100 * st.cv);
      std::printf("  percentiles ms:");
      for (double p : pcts) std::printf("  %s %.4f", pct_key(p).c_str(), st.pct[p]);
      std::printf("\n  throughput: %.1f runs/s   cpu utilisation: %.0f%% (of one core)   peak RSS: %.1f MB\n",
                  throughput, 100 * t.cpu_util, rss);
      const Session::PlannedMemory pm = s.planned_memory();
      std::printf("  memory plan: intermediates %.3f MB in a %.3f MB workspace (%zu steps)\n",
                  pm.intermediate_bytes / 1e6, pm.workspace_bytes / 1e6, pm.steps);
      if (st.cv > 0.05)
        std::printf("  warning: coefficient of variation %.1f%% > 5%%: the machine was noisy; trust the median\n",
                    100 * st.cv);
    }

    std::optional<ProfileResult> prof;
    if (profile) {
      prof = run_profile(s, inputs, profile_runs);
      const bool trace = profile_file.size() > 5 && profile_file.compare(profile_file.size() - 5, 5, ".json") == 0;
      if (trace) {
        write_chrome_trace(
            plan.shape_sets.size() > 1 ? profile_file + "." + std::to_string(set) + ".json" : profile_file, *prof);
      }
      if (!profile_file.empty() && !trace) {
        std::FILE* f = std::fopen(profile_file.c_str(), set == 0 ? "w" : "a");
        if (!f) throw Error(ErrorCode::IO, "cannot write '" + profile_file + "'");
        std::fprintf(f, "shapes: %s\n", label.c_str());
        write_profile_tables(f, *prof);
        std::fclose(f);
      } else if (!quiet) {
        std::printf("\n");
        write_profile_tables(stdout, *prof);
      }
    }

    if (!json_path.empty()) {
      j.begin_object();
      common_json();
      j.field("shapes", label);
      j.field("first_run_ms", first_ms);
      j.field("iterations", t.count);
      j.field("duration_s", t.wall_s);
      j.key("latency_ms");
      j.begin_object();
      j.field("min", st.min);
      j.field("mean", st.mean);
      j.field("median", st.median);
      for (double p : {90.0, 95.0, 99.0}) j.field(pct_key(p), st.pct[p]);
      j.field("max", st.max);
      j.field("stddev", st.stddev);
      j.end_object();
      j.key("percentiles_ms");
      j.begin_object();
      for (double p : pcts) j.field(pct_key(p), st.pct[p]);
      j.end_object();
      j.field("cv", st.cv);
      j.field("throughput_per_s", throughput);
      j.field("cpu_utilization", t.cpu_util);
      j.field("planned_workspace_bytes", static_cast<double>(s.planned_memory().workspace_bytes));
      j.field("planned_intermediate_bytes", static_cast<double>(s.planned_memory().intermediate_bytes));
      j.field("peak_rss_mb", rss);
      j.key("stopping_rule");
      j.begin_object();
      j.field("warmup", rule.warmup);
      j.field("warmup_ms", rule.warmup_ms);
      j.field("iterations", rule.iterations);
      j.field("duration_s", rule.duration_s);
      j.field("max_iterations", rule.max_iterations);
      j.end_object();
      if (check) j.field("check_passed", !mismatch);
      if (prof) profile_json(j, *prof);
      j.end_object();
    }
  }
  if (!json_path.empty()) {
    j.end_array();
    json_file << "\n";
  }
  if (mismatch) {
    std::fprintf(stderr, "normrt bench: outputs differ from %s (see the check lines)\n", plan.data_dir.c_str());
    return 1;
  }
  return 0;
}

}  // namespace normrt::cli

// normrt — command-line front end: run, check, info (bench and quantize in
// their own files). Uses only the public library API (normrt/normrt.h).
#include "normrt/normrt.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "cli_common.h"

namespace fs = std::filesystem;
using namespace normrt;
using namespace normrt::cli;

namespace normrt::cli {
int cmd_bench(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
}  // namespace normrt::cli

namespace {

const char* kUsage =
    "usage: normrt <command> [options]\n"
    "commands:\n"
    "  run MODEL     run a model on given or random inputs\n"
    "  bench MODEL   measure latency and throughput, with a per-operator profile\n"
    "  check DIR     run an ONNX backend-test folder and compare with its expected outputs\n"
    "  info MODEL    show a model's inputs, outputs, opsets, operators and unsupported ops\n"
    "  quantize IN OUT  int8 dynamic quantization of MatMul/Gemm weights (ONNX Runtime's format)\n"
    "  version       print the version and the active ISA path\n"
    "'normrt <command> --help' shows a command's options.\n";

const char* kRunHelp =
    "usage: normrt run MODEL [options]\n"
    "  --input NAME=FILE    input from a .npy or TensorProto .pb file (repeatable)\n"
    "  --data-dir DIR       inputs from DIR/input_N.pb (an ONNX test_data_set folder)\n"
    "  --shape NAME=1x128   shape for a generated input with dynamic dims (default: symbolic dims = 1)\n"
    "  --seed S             seed for generated inputs (default 0)\n"
    "  --threads N          intra-op threads (default: hardware concurrency)\n"
    "  --inter-op on|off    run independent operators concurrently (default on)\n"
    "  --optimize LEVEL     none, basic or all (default all: normalization fusions)\n"
    "  --repeat N           run N times and print median and p90 latency\n"
    "  --output-dir DIR     write each output as DIR/NAME.npy (or .pb)\n"
    "  --format npy|pb      file format for --output-dir (default npy)\n"
    "  --print N            values to print per output (default 8)\n";

const char* kCheckHelp =
    "usage: normrt check DIR [options]\n"
    "DIR holds model.onnx and test_data_set_*/{input,output}_N.pb (the ONNX backend-test layout).\n"
    "  --rtol R       relative tolerance (default 1e-3)\n"
    "  --atol A       absolute tolerance (default 1e-7: ONNX's backend tests use rtol 1e-3, atol 1e-7)\n"
    "  --threads N    intra-op threads\n"
    "  --optimize L   none, basic or all (default all)\n"
    "exit status: 0 all outputs match, 1 a mismatch, 2 an error (unreadable model, unsupported op)\n";

const char* kInfoHelp =
    "usage: normrt info MODEL [--optimized] [--save-optimized FILE]\n"
    "  --optimized            show the op counts after the optimizer's passes and how often each fired\n"
    "  --save-optimized FILE  write the optimized graph as an ONNX file (ai.normrt ops declared)\n";

int cmd_run(int argc, char** argv) {
  Args a = cli::parse_args(argc, argv, 2,
                           {"--input", "--data-dir", "--shape", "--seed", "--threads", "--inter-op", "--optimize",
                            "--repeat", "--output-dir", "--format", "--print"},
                           {"--help"});
  if (a.has("--help")) return std::fputs(kRunHelp, stdout), 0;
  if (a.positional.size() != 1) throw UsageError{"run takes one MODEL argument"};
  const std::string format = a.get("--format", "npy");
  if (format != "npy" && format != "pb") throw UsageError{"--format expects npy or pb, got '" + format + "'"};
  const int64_t repeat = a.get_int("--repeat", 1, 1, 1000000);
  const int64_t print_n = a.get_int("--print", 8, 0, 1 << 30);
  SessionOptions opts = session_options(a);
  const std::string out_dir = a.get("--output-dir", "");

  Session s(a.positional[0], opts);
  InputPlan plan = parse_input_plan(s, a);
  if (plan.shape_sets.size() > 1) throw UsageError{"--shape gives one input several shapes; run takes one shape set"};
  NamedTensors inputs = make_inputs(s, plan, plan.shape_sets[0]);
  std::printf("model: %s  (threads %d, isa %s)\n", a.positional[0].c_str(), s.threads(), active_isa());
  for (auto& [n, t] : inputs) print_tensor("input " + n, t, std::min<int64_t>(print_n, 4));
  std::vector<double> ms;
  NamedTensors outputs;
  for (int64_t i = 0; i < repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    outputs = s.run(inputs);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  for (auto& [n, t] : outputs) print_tensor(n, t, print_n);
  if (repeat > 1) {
    std::printf("latency over %lld runs: median %.4f ms, p90 %.4f ms, min %.4f ms (first run %.4f ms)\n",
                static_cast<long long>(repeat), percentile(ms, 50), percentile(ms, 90),
                *std::min_element(ms.begin(), ms.end()), ms.front());
  } else {
    std::printf("latency: %.4f ms (one run; use --repeat N for a median)\n", ms.front());
  }
  if (!out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw Error(ErrorCode::IO, "cannot create output folder '" + out_dir + "': " + ec.message());
    for (auto& [n, t] : outputs) {
      std::string path = (fs::path(out_dir) / (file_name_for(n) + "." + format)).string();
      if (format == "npy")
        write_npy(path, t);
      else
        write_tensor_pb(path, t, n);
      std::printf("wrote %s\n", path.c_str());
    }
  }
  return 0;
}

int cmd_check(int argc, char** argv) {
  Args a = cli::parse_args(argc, argv, 2, {"--rtol", "--atol", "--threads", "--inter-op", "--optimize"}, {"--help"});
  if (a.has("--help")) return std::fputs(kCheckHelp, stdout), 0;
  if (a.positional.size() != 1) throw UsageError{"check takes one DIR argument"};
  const double rtol = a.get_double("--rtol", 1e-3, 0), atol = a.get_double("--atol", 1e-7, 0);
  const fs::path dir = a.positional[0];
  if (!fs::is_directory(dir)) throw Error(ErrorCode::IO, "'" + dir.string() + "' is not a folder");
  Session s((dir / "model.onnx").string(), session_options(a));
  std::vector<fs::path> sets;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) throw Error(ErrorCode::IO, "'" + dir.string() + "' has no test_data_set_* folders");
  bool all_pass = true;
  bool value_io = false;  // sequences or optionals among the inputs or outputs: Session::run_values
  for (const auto* list : {&s.inputs(), &s.outputs()})
    for (const ValueMeta& m : *list) value_io = value_io || m.kind != ValueKind::Tensor;
  for (auto& set : sets) {
    if (value_io) {
      NamedValues inputs;
      for (size_t i = 0; i < s.inputs().size(); ++i)
        inputs.emplace_back(s.inputs()[i].name,
                            read_value_for((set / ("input_" + std::to_string(i) + ".pb")).string(), s.inputs()[i]));
      NamedValues outputs = s.run_values(inputs);
      for (size_t i = 0; i < outputs.size(); ++i) {
        fs::path p = set / ("output_" + std::to_string(i) + ".pb");
        if (!fs::exists(p)) continue;
        Compare c = compare_values(outputs[i].second, read_value_for(p.string(), s.outputs()[i]), rtol, atol);
        all_pass = all_pass && c.pass;
        std::printf("%s  %-24s max_abs %.3g  max_rel %.3g  %s%s%s\n", set.filename().c_str(), outputs[i].first.c_str(),
                    c.max_abs, c.max_rel, c.pass ? "PASS" : "FAIL", c.why.empty() ? "" : ": ", c.why.c_str());
      }
      continue;
    }
    NamedTensors inputs;
    for (size_t i = 0; i < s.inputs().size(); ++i) {
      fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      inputs.emplace_back(s.inputs()[i].name, read_tensor_for(p.string(), s.inputs()[i].dtype));
    }
    NamedTensors outputs = s.run(inputs);
    std::vector<std::optional<Tensor>> expected = read_expected_outputs(s, set);
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (!expected[i]) continue;
      Compare c = compare(outputs[i].second, *expected[i], rtol, atol);
      all_pass = all_pass && c.pass;
      std::printf("%s  %-24s max_abs %.3g  max_rel %.3g  %s%s%s\n", set.filename().c_str(), outputs[i].first.c_str(),
                  c.max_abs, c.max_rel, c.pass ? "PASS" : "FAIL", c.why.empty() ? "" : ": ", c.why.c_str());
    }
  }
  std::printf("%s\n", all_pass ? "PASS" : "FAIL");
  return all_pass ? 0 : 1;
}

int cmd_info(int argc, char** argv) {
  Args a = cli::parse_args(argc, argv, 2, {"--save-optimized"}, {"--help", "--optimized"});
  if (a.has("--help")) return std::fputs(kInfoHelp, stdout), 0;
  if (a.positional.size() != 1) throw UsageError{"info takes one MODEL argument"};
  ModelSummary m = summarize_model(a.positional[0], a.has("--optimized"));
  const std::string save = a.get("--save-optimized", "");
  if (!save.empty()) save_optimized_model(a.positional[0], save);
  std::printf("model: %s\nir_version: %lld\nproducer: %s\nopsets:", m.path.c_str(),
              static_cast<long long>(m.ir_version), m.producer.empty() ? "(none)" : m.producer.c_str());
  for (auto& [d, v] : m.opsets) std::printf(" %s=%lld", d.empty() ? "ai.onnx" : d.c_str(), static_cast<long long>(v));
  std::printf("\ninputs:\n");
  for (auto& v : m.inputs) std::printf("  %s: %s\n", v.name.c_str(), value_type_dims(v).c_str());
  std::printf("outputs:\n");
  for (auto& v : m.outputs) std::printf("  %s: %s\n", v.name.c_str(), value_type_dims(v).c_str());
  std::printf("initializers: %zu\nnodes by op type%s:\n", m.initializer_count,
              a.has("--optimized") ? " (after the optimizer)" : "");
  for (auto& [op, n] : m.op_counts) std::printf("  %-28s %d\n", op.c_str(), n);
  if (a.has("--optimized")) {
    std::printf("passes applied:%s\n", m.passes_applied.empty() ? " none" : "");
    for (auto& [p, n] : m.passes_applied) std::printf("  %-28s %d\n", p.c_str(), n);
  }
  if (!save.empty()) std::printf("wrote the optimized model to %s\n", save.c_str());
  bool value_io = false;  // sequences or optionals at the inputs or outputs
  for (const auto* list : {&m.inputs, &m.outputs})
    for (const ValueMeta& v : *list) value_io = value_io || v.kind != ValueKind::Tensor;
  if (value_io && m.unsupported.empty()) {
    std::printf("memory plan: none, runs node by node (sequence or optional values)\n");
  } else if (m.unsupported.empty()) {
    // The static memory plan, when every input shape is static (planned at session creation).
    try {
      SessionOptions opts;
      bool node_by_node = false;  // some output shape depends on input values
      opts.log = [&](LogLevel, const std::string& msg) {
        node_by_node = node_by_node || msg.rfind("running node by node", 0) == 0;
      };
      Session s(a.positional[0], opts);
      const Session::PlannedMemory pm = s.planned_memory();
      if (node_by_node)
        std::printf("memory plan: none, runs node by node (output shapes depend on input values)\n");
      else if (pm.steps)
        std::printf("memory plan: %zu steps, intermediates %.3f MB in a %.3f MB workspace\n", pm.steps,
                    pm.intermediate_bytes / 1e6, pm.workspace_bytes / 1e6);
      else
        std::printf("memory plan: made per input shapes at the first run (dynamic dims)\n");
    } catch (const Error& e) {
      std::printf("memory plan: not available (%s)\n", e.what());
    }
  }
  if (m.unsupported.empty()) {
    std::printf("unsupported ops: none\n");
  } else {
    std::printf("unsupported ops:\n");
    for (auto& u : m.unsupported) std::printf("  %s\n", u.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "run") return cmd_run(argc, argv);
    if (cmd == "check") return cmd_check(argc, argv);
    if (cmd == "info") return cmd_info(argc, argv);
    if (cmd == "bench") return cmd_bench(argc, argv);
    if (cmd == "quantize") return cmd_quantize(argc, argv);
    if (cmd == "version" || cmd == "--version") {
      std::printf("normrt %s (isa %s)\n", version(), active_isa());
      return 0;
    }
    if (cmd == "--help" || cmd == "-h" || cmd == "help") return std::fputs(kUsage, stdout), 0;
    std::fprintf(stderr, "normrt: unknown command '%s'\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "normrt %s: %s (see 'normrt %s --help')\n", cmd.c_str(), e.message.c_str(), cmd.c_str());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "normrt %s: error (%s): %s\n", cmd.c_str(), error_code_name(e.code()), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normrt %s: error: %s\n", cmd.c_str(), e.what());
    return 2;
  }
}

// normrt quantize: dynamic int8 quantization of a model's MatMul/Gemm weights
// (normrt::quantize_dynamic), what it changed, and with --check the accuracy
// of the quantized model against the float32 one on given inputs: per output
// cosine similarity and max |difference|, also against output_N.pb if present.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli_common.h"

namespace normrt::cli {

namespace {

namespace fs = std::filesystem;

const char* kQuantizeHelp =
    "usage: normrt quantize IN.onnx OUT.onnx [options]\n"
    "Rewrites each MatMul (and Gemm with transA=0, alpha=1, beta=1) whose weight is a float32\n"
    "initializer into DynamicQuantizeLinear + MatMulInteger (int8 weight, zero point 0) + Cast +\n"
    "Mul [+ Add bias], as ONNX Runtime's quantize_dynamic writes it. Everything else stays\n"
    "float32; nodes inside subgraphs are not quantized. The ai.onnx opset is raised to 11 if lower.\n"
    "  --mode dynamic      the only mode (activations quantized at run time)\n"
    "  --per-channel       one weight scale per output column (default: one per weight)\n"
    "  --exclude NODE      leave this node in float32 (repeatable, or NODE1,NODE2)\n"
    "  --min-size N        quantize only weights with at least N elements (default 4096)\n"
    "  --check DATA_DIR    run both models on DATA_DIR/input_N.pb (a test_data_set folder, or a\n"
    "                      folder of them) and print per output cosine similarity and max abs\n"
    "                      difference against float32 (and against output_N.pb where present)\n"
    "  --threads N         intra-op threads for --check\n"
    "  --optimize LEVEL    none, basic or all for --check's sessions (default all)\n"
    "exit status: 0 written, 2 an error (bad flags, unreadable or invalid model)\n";

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= 1000000)
    std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(b) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(b) / 1e3);
  return buf;
}

struct Similarity {
  double cosine = 1, max_abs = 0;
  std::string why;  // why they cannot be compared
};

Similarity similarity(const Tensor& a, const Tensor& b) {
  Similarity s;
  if (a.shape() != b.shape()) {
    s.why = "shapes differ: " + shape_str(a.shape()) + " vs " + shape_str(b.shape());
    return s;
  }
  double dot = 0, na = 0, nb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = element_as_double(a, i), y = element_as_double(b, i);
    dot += x * y, na += x * x, nb += y * y;
    s.max_abs = std::max(s.max_abs, std::fabs(x - y));
  }
  s.cosine = na == 0 && nb == 0 ? 1.0 : (na == 0 || nb == 0) ? 0.0 : dot / std::sqrt(na * nb);
  return s;
}

std::vector<fs::path> data_sets(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(ErrorCode::IO, "--check: '" + dir.string() + "' is not a folder");
  if (fs::exists(dir / "input_0.pb")) return {dir};
  std::vector<fs::path> sets;
  for (auto& e : fs::directory_iterator(dir))
    if (e.is_directory() && fs::exists(e.path() / "input_0.pb")) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty())
    throw Error(ErrorCode::IO, "--check: '" + dir.string() + "' holds no input_0.pb nor folders with one");
  return sets;
}

void check_accuracy(const std::string& float_model, const std::string& quant_model, const fs::path& dir,
                    const Args& a) {
  const SessionOptions opts = session_options(a);
  Session f(float_model, opts), q(quant_model, opts);
  for (const fs::path& set : data_sets(dir)) {
    NamedTensors inputs;
    for (size_t i = 0; i < f.inputs().size(); ++i) {
      const fs::path p = set / ("input_" + std::to_string(i) + ".pb");
      inputs.emplace_back(f.inputs()[i].name, read_tensor_for(p.string(), f.inputs()[i].dtype));
    }
    const NamedTensors fo = f.run(inputs), qo = q.run(inputs);
    const std::vector<std::optional<Tensor>> expected = read_expected_outputs(f, set);
    for (size_t i = 0; i < fo.size(); ++i) {
      const Similarity vs_float = similarity(qo[i].second, fo[i].second);
      std::printf("check %s  %-24s vs float32: cosine %.6f  max_abs %.4g%s%s", set.filename().c_str(),
                  fo[i].first.c_str(), vs_float.cosine, vs_float.max_abs, vs_float.why.empty() ? "" : "  ",
                  vs_float.why.c_str());
      if (expected[i]) {
        const Similarity vs_file = similarity(qo[i].second, *expected[i]);
        const Similarity float_file = similarity(fo[i].second, *expected[i]);
        std::printf("  | vs output_%zu.pb: cosine %.6f  max_abs %.4g (float32: %.4g)", i, vs_file.cosine,
                    vs_file.max_abs, float_file.max_abs);
      }
      std::printf("\n");
    }
  }
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args a = parse_args(argc, argv, 2, {"--mode", "--exclude", "--min-size", "--check", "--threads", "--optimize"},
                      {"--help", "--per-channel"});
  if (a.has("--help")) return std::fputs(kQuantizeHelp, stdout), 0;
  if (a.positional.size() != 2) throw UsageError{"quantize takes IN.onnx and OUT.onnx"};
  const std::string mode = a.get("--mode", "dynamic");
  if (mode != "dynamic") throw UsageError{"--mode expects dynamic (the only mode), got '" + mode + "'"};
  QuantizeOptions opt;
  opt.per_channel = a.has("--per-channel");
  opt.min_size = a.get_int("--min-size", opt.min_size, 0, int64_t(1) << 62);
  for (const std::string& list : a.all("--exclude")) {
    std::stringstream ss(list);
    for (std::string name; std::getline(ss, name, ',');)
      if (!name.empty()) opt.exclude.push_back(name);
  }
  const std::string in = a.positional[0], out = a.positional[1];
  const std::string check_dir = a.get("--check", "");
  if (!check_dir.empty()) data_sets(check_dir);  // a bad folder fails before anything is written
  const QuantizeReport r = quantize_dynamic(in, out, opt);
  for (const QuantizedNode& n : r.quantized)
    std::printf("quantized %-6s %-40s weight [%lld, %lld] %s\n", n.op_type.c_str(), n.name.c_str(),
                static_cast<long long>(n.weight_shape[0]), static_cast<long long>(n.weight_shape[1]),
                n.per_channel ? "per-channel" : "per-tensor");
  for (auto& [name, why] : r.skipped) std::printf("kept float32  %-40s %s\n", name.c_str(), why.c_str());
  for (auto& note : r.notes) std::printf("note: %s\n", note.c_str());
  std::printf("%zu nodes quantized, %zu kept float32, %lld DynamicQuantizeLinear added; opset %lld -> %lld\n",
              r.quantized.size(), r.skipped.size(), static_cast<long long>(r.activation_quantizers),
              static_cast<long long>(r.opset_before), static_cast<long long>(r.opset_after));
  std::printf("size: %s -> %s (%s)\n", human_bytes(r.bytes_before).c_str(), human_bytes(r.bytes_after).c_str(),
              out.c_str());
  if (!check_dir.empty()) check_accuracy(in, out, check_dir, a);
  return 0;
}

}  // namespace normrt::cli

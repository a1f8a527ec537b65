// normrt::quantize_dynamic: rewrites each MatMul/Gemm whose weight W is a
// float32 2-D initializer into the ops ONNX Runtime's quantize_dynamic writes.
//   weight (once per initializer): s = max|W| / 127 (per tensor, or per output
//     column with per_channel; 1 where W is all zeros), Wq = saturate(rint(W / s))
//     in [−127, 127], zero point 0; Gemm's transB=1 weight is stored transposed.
//   activation (once per distinct X): DynamicQuantizeLinear(X) → Xq, Xs, Xzp
//   Y = Mul(Cast<float>(MatMulInteger(Xq, Wq, Xzp, Wzp)), Mul(Xs, Ws)) [+ C]
// Works on the protobuf directly so that every other part of the file stays
// as it was; one pass over the nodes, one over each quantized weight.
#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "normrt/quantize.h"
#include "onnx_loader.h"
#include "tensor_proto.h"

namespace normrt {

namespace {

namespace fs = std::filesystem;
using NodeList = google::protobuf::RepeatedPtrField<onnx::NodeProto>;

void collect_names(const onnx::GraphProto& g, std::set<std::string>& names) {
  for (auto& v : g.input()) names.insert(v.name());
  for (auto& v : g.output()) names.insert(v.name());
  for (auto& t : g.initializer()) names.insert(t.name());
  for (auto& n : g.node()) {
    names.insert(n.name());
    names.insert(n.input().begin(), n.input().end());
    names.insert(n.output().begin(), n.output().end());
    for (auto& a : n.attribute()) {
      if (a.has_g()) collect_names(a.g(), names);
      for (auto& sub : a.graphs()) collect_names(sub, names);
    }
  }
}

// Values read by `nodes` or, by name, anywhere inside their subgraphs.
void collect_reads(const NodeList& nodes, std::map<std::string, int>& reads) {
  for (auto& n : nodes) {
    for (auto& in : n.input()) ++reads[in];
    for (auto& a : n.attribute()) {
      if (a.has_g()) collect_reads(a.g().node(), reads);
      for (auto& sub : a.graphs()) collect_reads(sub.node(), reads);
    }
  }
}

bool has_subgraph(const onnx::NodeProto& n) {
  for (auto& a : n.attribute())
    if (a.has_g() || a.graphs_size()) return true;
  return false;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const char* name) {
  for (auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_int(const onnx::NodeProto& n, const char* name, int64_t fallback) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : fallback;
}
float attr_float(const onnx::NodeProto& n, const char* name, float fallback) {
  const auto* a = find_attr(n, name);
  return a ? a->f() : fallback;
}

struct FreshNames {
  std::set<std::string> used;
  std::string operator()(const std::string& want) {
    std::string n = want;
    for (int k = 1; used.count(n); ++k) n = want + "_" + std::to_string(k);
    used.insert(n);
    return n;
  }
};

struct ActivationQuant {
  std::string q, scale, zero_point;
};
struct WeightQuant {
  std::string q, scale, zero_point;
};

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> in,
                          std::vector<std::string> out) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& s : in) n.add_input(s);
  for (auto& s : out) n.add_output(s);
  return n;
}

// Symmetric int8 quantization of W (given as [K, N]) into `wq`, `scales`.
void quantize_weight(const std::vector<float>& w, int64_t K, int64_t N, bool per_channel, std::vector<int8_t>* wq,
                     std::vector<float>* scales) {
  const int64_t groups = per_channel ? N : 1;
  scales->assign(static_cast<size_t>(groups), 0.f);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      float& m = (*scales)[static_cast<size_t>(per_channel ? n : 0)];
      m = std::max(m, std::fabs(w[static_cast<size_t>(k * N + n)]));
    }
  for (float& s : *scales) s = s > 0.f ? static_cast<float>(2.0 * s / 254.0) : 1.f;
  wq->resize(w.size());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      const size_t e = static_cast<size_t>(k * N + n);
      const float q = std::nearbyint(w[e] / (*scales)[static_cast<size_t>(per_channel ? n : 0)]);
      (*wq)[e] = static_cast<int8_t>(q < -127.f ? -127.f : q > 127.f ? 127.f : q);
    }
}

void add_initializer(onnx::GraphProto* g, const std::string& name, int elem_type, const std::vector<int64_t>& dims,
                     const void* data, size_t bytes) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, bytes);
}

uint64_t file_bytes(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

// The model file plus the distinct external-data files it names.
uint64_t model_bytes(const std::string& path, const onnx::GraphProto& g, const fs::path& dir) {
  uint64_t total = file_bytes(path);
  std::set<std::string> files;
  for (auto& t : g.initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      for (auto& kv : t.external_data())
        if (kv.key() == "location") files.insert(kv.value());
  for (auto& f : files) total += file_bytes((dir / f).string());
  return total;
}

onnx::ModelProto parse_model(const std::string& path) {
  const std::string bytes = read_file_bytes(path, "model file");
  if (bytes.size() > INT_MAX) throw Error(ErrorCode::InvalidModel, path + ": larger than 2 GiB");
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);
  in.SetRecursionLimit(4 * kMaxSubgraphDepth + 64);
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    throw Error(ErrorCode::InvalidModel, path + ": not a valid ONNX model (protobuf parsing failed)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw Error(ErrorCode::InvalidModel, path + ": not an ONNX model (no graph nodes)");
  return model;
}

struct Rewriter {
  onnx::GraphProto* g;
  const QuantizeOptions& opt;
  const std::string& base_dir;
  QuantizeReport& report;
  FreshNames fresh;
  std::map<std::string, int> init_index;
  std::set<std::string> graph_inputs;
  std::map<std::string, ActivationQuant> activations;
  std::map<std::string, WeightQuant> weights;  // key: W name + "|T" when transposed
  std::set<std::string> quantized_weights;
  std::vector<onnx::NodeProto> out_nodes;

  // "" when node `n` (MatMul/Gemm with an initializer weight) can be quantized.
  std::string why_not(const onnx::NodeProto& n, const std::string& name, const onnx::TensorProto& w) {
    for (auto& e : opt.exclude)
      if (e == name) return "excluded";
    if (graph_inputs.count(w.name())) return "weight '" + w.name() + "' is also a graph input (overridable)";
    if (w.data_type() != onnx::TensorProto::FLOAT || w.dims_size() != 2) return "weight is not a float32 matrix";
    int64_t numel = 0;
    if (w.dims(0) <= 0 || w.dims(1) <= 0 || __builtin_mul_overflow(w.dims(0), w.dims(1), &numel))
      return "weight has an empty or huge shape";
    if (numel < opt.min_size)
      return "weight has " + std::to_string(numel) + " elements, under --min-size " + std::to_string(opt.min_size);
    if (n.op_type() == "Gemm") {
      if (attr_int(n, "transA", 0) != 0) return "Gemm with transA=1";
      if (attr_float(n, "alpha", 1.f) != 1.f) return "Gemm with alpha != 1";
      if (n.input_size() > 2 && !n.input(2).empty() && attr_float(n, "beta", 1.f) != 1.f) return "Gemm with beta != 1";
    }
    return "";
  }

  const ActivationQuant& activation(const std::string& x) {
    auto it = activations.find(x);
    if (it != activations.end()) return it->second;
    ActivationQuant a{fresh(x + "_quantized"), fresh(x + "_scale"), fresh(x + "_zero_point")};
    out_nodes.push_back(
        make_node("DynamicQuantizeLinear", fresh(x + "_QuantizeLinear"), {x}, {a.q, a.scale, a.zero_point}));
    ++report.activation_quantizers;
    return activations.emplace(x, a).first->second;
  }

  const WeightQuant& weight(const onnx::TensorProto& tp, bool trans, std::vector<int64_t>* shape) {
    const std::string key = tp.name() + (trans ? "|T" : "");
    *shape = {tp.dims(0), tp.dims(1)};
    auto it = weights.find(key);
    if (it != weights.end()) return it->second;
    const Tensor w = tensor_from_proto(tp, base_dir, "initializer '" + tp.name() + "'");
    const int64_t K = trans ? w.dim(1) : w.dim(0), N = trans ? w.dim(0) : w.dim(1);
    std::vector<float> kn(static_cast<size_t>(K * N));
    const float* src = w.data<float>();
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) kn[static_cast<size_t>(k * N + n)] = trans ? src[n * K + k] : src[k * N + n];
    std::vector<int8_t> wq;
    std::vector<float> scales;
    quantize_weight(kn, K, N, opt.per_channel, &wq, &scales);
    const std::string stem = tp.name() + (trans ? "_transposed" : "");
    WeightQuant q{fresh(stem + "_quantized"), fresh(stem + "_scale"), fresh(stem + "_zero_point")};
    const std::vector<int8_t> zeros(scales.size(), 0);
    const std::vector<int64_t> param_dims = opt.per_channel ? std::vector<int64_t>{N} : std::vector<int64_t>{};
    add_initializer(g, q.q, onnx::TensorProto::INT8, {K, N}, wq.data(), wq.size());
    add_initializer(g, q.scale, onnx::TensorProto::FLOAT, param_dims, scales.data(), scales.size() * sizeof(float));
    add_initializer(g, q.zero_point, onnx::TensorProto::INT8, param_dims, zeros.data(), zeros.size());
    quantized_weights.insert(tp.name());
    return weights.emplace(key, q).first->second;
  }

  void rewrite(const onnx::NodeProto& n, const std::string& name, const onnx::TensorProto& w) {
    const bool gemm = n.op_type() == "Gemm";
    const bool trans = gemm && attr_int(n, "transB", 0) != 0;
    const std::string& y = n.output(0);
    const std::string bias = gemm && n.input_size() > 2 ? n.input(2) : "";
    QuantizedNode rep{name, n.op_type(), {}, opt.per_channel};
    const WeightQuant wq = weight(w, trans, &rep.weight_shape);
    const ActivationQuant xq = activation(n.input(0));
    const std::string acc = fresh(y + "_output_quantized"), acc_f = fresh(acc + "_cast_output");
    const std::string scales = fresh(name + "_scales_mul:0");
    const std::string scaled = bias.empty() ? y : fresh(y + "_before_bias");
    out_nodes.push_back(
        make_node("MatMulInteger", fresh(name + "_quant"), {xq.q, wq.q, xq.zero_point, wq.zero_point}, {acc}));
    onnx::NodeProto cast = make_node("Cast", fresh(acc + "_cast"), {acc}, {acc_f});
    auto* to = cast.add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::FLOAT);
    out_nodes.push_back(std::move(cast));
    out_nodes.push_back(make_node("Mul", fresh(name + "_scales_mul"), {xq.scale, wq.scale}, {scales}));
    out_nodes.push_back(make_node("Mul", fresh(name + "_output_scale_mul"), {acc_f, scales}, {scaled}));
    if (!bias.empty()) out_nodes.push_back(make_node("Add", fresh(name + "_bias_add"), {scaled, bias}, {y}));
    report.quantized.push_back(std::move(rep));
  }

  void run() {
    for (int i = 0; i < g->initializer_size(); ++i) init_index[g->initializer(i).name()] = i;
    for (auto& v : g->input()) graph_inputs.insert(v.name());
    collect_names(*g, fresh.used);
    bool subgraphs = false;
    std::set<std::string> excluded_seen;
    for (const onnx::NodeProto& n : g->node()) {
      subgraphs = subgraphs || has_subgraph(n);
      const bool onnx_domain = n.domain().empty() || n.domain() == "ai.onnx";
      const bool candidate = onnx_domain && (n.op_type() == "MatMul" || n.op_type() == "Gemm") && n.input_size() >= 2 &&
                             n.output_size() >= 1 && !n.input(0).empty();
      auto wi = candidate ? init_index.find(n.input(1)) : init_index.end();
      if (wi == init_index.end()) {
        out_nodes.push_back(n);
        continue;
      }
      const std::string name = n.name().empty() ? n.output(0) : n.name();
      const onnx::TensorProto& w = g->initializer(wi->second);
      const std::string why = why_not(n, name, w);
      if (why == "excluded") excluded_seen.insert(name);
      if (!why.empty()) {
        report.skipped.emplace_back(name, why);
        out_nodes.push_back(n);
        continue;
      }
      rewrite(n, name, w);
    }
    for (auto& e : opt.exclude)
      if (!excluded_seen.count(e))
        report.notes.push_back("--exclude '" + e + "' names no MatMul/Gemm with a constant weight");
    if (subgraphs) report.notes.push_back("nodes inside subgraphs (If/Loop/Scan bodies) are not quantized");
    g->clear_node();
    for (auto& n : out_nodes) *g->add_node() = std::move(n);
    drop_unread_weights();
  }

  // Float weights no node reads any more (nor is a graph output) are removed.
  void drop_unread_weights() {
    std::map<std::string, int> reads;
    collect_reads(g->node(), reads);
    for (auto& o : g->output()) ++reads[o.name()];
    auto* inits = g->mutable_initializer();
    for (int i = inits->size(); i-- > 0;) {
      const std::string& name = inits->Get(i).name();
      if (quantized_weights.count(name) && !reads.count(name)) inits->DeleteSubrange(i, 1);
    }
  }
};

// DynamicQuantizeLinear needs ai.onnx opset 11 (MatMulInteger 10), raised
// when some node was quantized.
void raise_opset(onnx::ModelProto& model, QuantizeReport& report, bool needed) {
  for (auto& op : *model.mutable_opset_import()) {
    if (!op.domain().empty() && op.domain() != "ai.onnx") continue;
    report.opset_before = report.opset_after = op.version();
    if (needed && op.version() < 11) {
      op.set_version(11);
      report.opset_after = 11;
      report.notes.push_back("ai.onnx opset raised from " + std::to_string(report.opset_before) +
                             " to 11 (DynamicQuantizeLinear needs 11)");
    }
    return;
  }
  if (!needed) return;
  auto* op = model.add_opset_import();
  op->set_version(11);
  report.opset_after = 11;
}

// External data of the other initializers is written inline.
void inline_external_data(onnx::GraphProto* g, const std::string& base_dir, QuantizeReport& report) {
  int inlined = 0;
  for (auto& tp : *g->mutable_initializer()) {
    if (tp.data_location() != onnx::TensorProto::EXTERNAL) continue;
    const std::string name = tp.name();
    const Tensor t = tensor_from_proto(tp, base_dir, "initializer '" + name + "'");
    const std::string doc = tp.doc_string();
    tp.Clear();
    tensor_to_proto(t, name, &tp);
    if (!doc.empty()) tp.set_doc_string(doc);
    ++inlined;
  }
  if (inlined) report.notes.push_back(std::to_string(inlined) + " initializers with external data written inline");
}

}  // namespace

QuantizeReport quantize_dynamic(const std::string& in_path, const std::string& out_path,
                                const QuantizeOptions& options) {
  if (options.min_size < 0) throw Error(ErrorCode::InvalidArgument, "min_size must be >= 0");
  onnx::ModelProto model = parse_model(in_path);
  fs::path dir = fs::path(in_path).parent_path();
  if (dir.empty()) dir = ".";
  QuantizeReport report;
  report.bytes_before = model_bytes(in_path, model.graph(), dir);
  Rewriter rw{model.mutable_graph(), options, dir.string(), report, {}, {}, {}, {}, {}, {}, {}};
  rw.run();
  raise_opset(model, report, !report.quantized.empty());
  inline_external_data(model.mutable_graph(), dir.string(), report);
  const size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    throw Error(ErrorCode::InvalidArgument, "the quantized model would take " + std::to_string(size) +
                                                " bytes, over protobuf's 2 GiB limit for one file; not written");
  {
    std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
    if (!f || !model.SerializeToOstream(&f) || !f.flush())
      throw Error(ErrorCode::IO, "cannot write '" + out_path + "'");
  }
  report.bytes_after = file_bytes(out_path);
  return report;
}

}  // namespace normrt

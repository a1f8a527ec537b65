#include "onnx_loader.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <filesystem>
#include <set>

#include "tensor_proto.h"

namespace normrt {

namespace {

// `in_subgraph`: subgraph inputs and outputs may leave their type out (Loop
// and Scan bodies often do); their dtype is then Undefined and comes from the
// values the subgraph runs with.
// Sequences of tensors and optionals (of a tensor or a sequence of tensors)
// are ValueKind::Sequence / Optional with their tensors' dtype and shape.
ValueMeta value_meta(const onnx::ValueInfoProto& vi, const std::string& label, bool in_subgraph = false) {
  ValueMeta m;
  m.name = vi.name();
  const onnx::TypeProto* type = vi.has_type() ? &vi.type() : nullptr;
  const auto not_supported = [&] {
    return Error(ErrorCode::UnsupportedOp, label + " '" + vi.name() +
                                               "' is not a tensor, a sequence of tensors or an optional of those "
                                               "(maps and sparse tensors are not supported)");
  };
  if (type && type->has_optional_type()) {
    m.kind = ValueKind::Optional;
    type = type->optional_type().has_elem_type() ? &type->optional_type().elem_type() : nullptr;
    if (type && type->has_sequence_type()) m.optional_of = ValueKind::Sequence;
    if (type && !type->has_sequence_type() && !type->has_tensor_type()) throw not_supported();
  }
  if (type && type->has_sequence_type()) {
    if (m.kind == ValueKind::Tensor) m.kind = ValueKind::Sequence;
    type = type->sequence_type().has_elem_type() ? &type->sequence_type().elem_type() : nullptr;
    if (type && !type->has_tensor_type()) throw not_supported();
  }
  if (in_subgraph && (!type || !type->has_tensor_type() || type->tensor_type().elem_type() == 0)) return m;
  if (m.kind != ValueKind::Tensor && (!type || type->tensor_type().elem_type() == 0)) return m;  // any dtype
  if (!type || !type->has_tensor_type()) throw not_supported();
  const auto& tt = type->tensor_type();
  if (!dtype_from_onnx(tt.elem_type(), &m.dtype))
    throw Error(ErrorCode::UnsupportedOp, label + " '" + vi.name() + "' has data type " +
                                              onnx_type_name(tt.elem_type()) + ", which normrt does not support");
  if (tt.has_shape()) {
    m.has_shape = true;
    for (auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0)
          throw Error(ErrorCode::InvalidModel, label + " '" + vi.name() + "' has a negative dimension");
        m.shape.push_back(d.dim_value());
        m.dim_names.push_back("");
      } else {
        m.shape.push_back(-1);
        m.dim_names.push_back(d.has_dim_param() ? d.dim_param() : "");
      }
    }
  }
  return m;
}

struct LoadScope {
  const Graph& model;  // the main graph: source, opsets
  const std::string& base_dir;
};

void load_graph(const onnx::GraphProto& gp, Graph& g, const LoadScope& ls, int depth);

std::shared_ptr<Graph> load_subgraph(const onnx::GraphProto& gp, const LoadScope& ls, int depth,
                                     const std::string& scope, const std::string& where) {
  if (depth > kMaxSubgraphDepth)
    throw Error(ErrorCode::InvalidModel,
                where + ": subgraphs are nested more than " + std::to_string(kMaxSubgraphDepth) + " levels deep");
  auto g = std::make_shared<Graph>();
  g->name = gp.name();
  g->source = ls.model.source;
  g->ir_version = ls.model.ir_version;
  g->producer = ls.model.producer;
  g->opsets = ls.model.opsets;
  g->scope = scope;
  load_graph(gp, *g, ls, depth);
  return g;
}

Attribute convert_attribute(const onnx::AttributeProto& a, const std::string& base_dir, const std::string& where,
                            const LoadScope& ls, int depth, const std::string& scope) {
  Attribute r;
  using A = onnx::AttributeProto;
  switch (a.type()) {
    case A::FLOAT:
      r.kind = Attribute::Kind::Float;
      r.f = a.f();
      break;
    case A::INT:
      r.kind = Attribute::Kind::Int;
      r.i = a.i();
      break;
    case A::STRING:
      r.kind = Attribute::Kind::String;
      r.s = a.s();
      break;
    case A::TENSOR:
      r.kind = Attribute::Kind::Tensor;
      r.t = tensor_from_proto(a.t(), base_dir, where + " attribute '" + a.name() + "'");
      break;
    case A::FLOATS:
      r.kind = Attribute::Kind::Floats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case A::INTS:
      r.kind = Attribute::Kind::Ints;
      r.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case A::STRINGS:
      r.kind = Attribute::Kind::Strings;
      r.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case A::GRAPH:
      r.kind = Attribute::Kind::Graph;
      r.g = load_subgraph(a.g(), ls, depth + 1, scope + "/" + a.name(), where);
      break;
    case A::GRAPHS:
      r.kind = Attribute::Kind::Graphs;
      for (int k = 0; k < a.graphs_size(); ++k)
        r.graphs.push_back(
            load_subgraph(a.graphs(k), ls, depth + 1, scope + "/" + a.name() + "[" + std::to_string(k) + "]", where));
      break;
    default:
      r.kind = Attribute::Kind::Unsupported;
      break;  // sparse tensors, type protos
  }
  return r;
}

void load_graph(const onnx::GraphProto& gp, Graph& g, const LoadScope& ls, int depth) {
  if (gp.sparse_initializer_size() > 0)
    throw Error(ErrorCode::UnsupportedOp, g.where() + ": sparse initializers are not supported");
  for (auto& tp : gp.initializer()) {
    if (tp.name().empty()) throw Error(ErrorCode::InvalidModel, g.where() + ": an initializer has no name");
    Tensor t = tensor_from_proto(tp, ls.base_dir, g.where() + ": initializer '" + tp.name() + "'");
    if (!g.initializers.emplace(tp.name(), std::move(t)).second)
      throw Error(ErrorCode::InvalidModel, g.where() + ": initializer '" + tp.name() + "' is defined twice");
  }
  for (auto& vi : gp.input()) {
    if (g.initializers.count(vi.name())) continue;  // IR < 4: initializers listed as inputs
    g.inputs.push_back(value_meta(vi, g.where() + ": graph input", depth > 0));
  }
  for (auto& vi : gp.output()) g.outputs.push_back(value_meta(vi, g.where() + ": graph output", depth > 0));

  std::set<std::string> names;
  for (int i = 0; i < gp.node_size(); ++i) {
    const onnx::NodeProto& np = gp.node(i);
    Node n;
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? std::string() : np.domain();
    n.name = np.name();
    if (n.name.empty()) n.name.append(n.op_type).append("_").append(std::to_string(i));
    if (!names.insert(n.name).second) n.name.append("#").append(std::to_string(i));
    n.opset = g.opset_for(n.domain);
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    // Trailing empty outputs carry no meaning; drop them.
    while (!n.outputs.empty() && n.outputs.back().empty()) n.outputs.pop_back();
    for (auto& a : np.attribute()) {
      if (a.ref_attr_name().size())
        throw Error(ErrorCode::UnsupportedOp, g.where() + ": " + n.where() + " uses a function attribute reference");
      n.attrs[a.name()] = convert_attribute(a, ls.base_dir, g.where() + ": " + n.where(), ls, depth,
                                            (g.scope.empty() ? "" : g.scope + "/") + n.name);
    }
    g.nodes.push_back(std::move(n));
  }
}

}  // namespace

Graph load_onnx_model_from_bytes(const std::string& bytes, const std::string& base_dir, const std::string& label,
                                 bool validate) {
  onnx::ModelProto model;
  {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                              static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
    in.SetTotalBytesLimit(INT_MAX);
    in.SetRecursionLimit(4 * kMaxSubgraphDepth + 64);  // a subgraph nests 3 messages deeper
    if (bytes.size() > INT_MAX)
      throw Error(ErrorCode::InvalidModel, label + ": larger than 2 GiB; keep the weights as external data");
    if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
      throw Error(ErrorCode::InvalidModel, label +
                                               ": not a valid ONNX model (protobuf parsing failed; "
                                               "the file is truncated or not ONNX)");
  }
  if (!model.has_graph() || (model.graph().node_size() == 0 && model.graph().output_size() == 0))
    throw Error(ErrorCode::InvalidModel, label + ": not an ONNX model (no graph)");
  if (model.opset_import_size() == 0) throw Error(ErrorCode::InvalidModel, label + ": the model imports no opset");

  const onnx::GraphProto& gp = model.graph();
  Graph g;
  g.name = gp.name();
  g.source = label;
  g.ir_version = model.ir_version();
  g.producer = model.producer_name();
  if (!model.producer_version().empty()) g.producer.append(" ").append(model.producer_version());
  for (auto& op : model.opset_import()) {
    std::string d = op.domain() == "ai.onnx" ? std::string() : op.domain();
    g.opsets.emplace_back(d, op.version());
  }
  load_graph(gp, g, LoadScope{g, base_dir}, 0);
  if (validate) validate_and_sort(g);
  return g;
}

Graph load_onnx_model(const std::string& path, bool validate) {
  std::string bytes = read_file_bytes(path, "model file");
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  return load_onnx_model_from_bytes(bytes, dir.string(), path, validate);
}

}  // namespace normrt

// Graph → ONNX ModelProto file: how `normrt info --save-optimized` writes the
// graph after the optimizer (ai.normrt ops declared in opset_import).
#include "onnx_writer.h"

#include <fstream>

#include "tensor_proto.h"

namespace normrt {

namespace {

void write_value_info(const ValueMeta& m, onnx::ValueInfoProto* v) {
  v->set_name(m.name);
  if (m.dtype == DType::Undefined) return;  // an untyped subgraph input or output
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int>(m.dtype));
  if (!m.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (size_t d = 0; d < m.shape.size(); ++d) {
    auto* dim = shape->add_dim();
    if (m.shape[d] >= 0)
      dim->set_dim_value(m.shape[d]);
    else if (d < m.dim_names.size() && !m.dim_names[d].empty())
      dim->set_dim_param(m.dim_names[d]);
  }
}

void write_graph(const Graph& g, onnx::GraphProto* gp);

void write_attribute(const std::string& name, const Attribute& a, onnx::AttributeProto* p) {
  using A = onnx::AttributeProto;
  p->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::Float:
      p->set_type(A::FLOAT), p->set_f(a.f);
      break;
    case Attribute::Kind::Int:
      p->set_type(A::INT), p->set_i(a.i);
      break;
    case Attribute::Kind::String:
      p->set_type(A::STRING), p->set_s(a.s);
      break;
    case Attribute::Kind::Tensor:
      p->set_type(A::TENSOR), tensor_to_proto(a.t, "", p->mutable_t());
      break;
    case Attribute::Kind::Floats:
      p->set_type(A::FLOATS);
      for (float f : a.floats) p->add_floats(f);
      break;
    case Attribute::Kind::Ints:
      p->set_type(A::INTS);
      for (int64_t i : a.ints) p->add_ints(i);
      break;
    case Attribute::Kind::Strings:
      p->set_type(A::STRINGS);
      for (auto& s : a.strings) p->add_strings(s);
      break;
    case Attribute::Kind::Graph:
      p->set_type(A::GRAPH), write_graph(*a.g, p->mutable_g());
      break;
    case Attribute::Kind::Graphs:
      p->set_type(A::GRAPHS);
      for (auto& sub : a.graphs) write_graph(*sub, p->add_graphs());
      break;
    case Attribute::Kind::Unsupported:
      throw Error(ErrorCode::UnsupportedOp, "attribute '" + name + "' has a kind normrt cannot write");
  }
}

void write_graph(const Graph& g, onnx::GraphProto* gp) {
  gp->set_name(g.name);
  for (auto& in : g.inputs) write_value_info(in, gp->add_input());
  for (auto& out : g.outputs) write_value_info(out, gp->add_output());
  for (auto& [name, t] : g.initializers) tensor_to_proto(t, name, gp->add_initializer());
  for (const Node& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    np->set_domain(n.domain);
    for (auto& i : n.inputs) np->add_input(i);
    for (auto& o : n.outputs) np->add_output(o);
    for (auto& [k, a] : n.attrs) write_attribute(k, a, np->add_attribute());
  }
}

}  // namespace

void save_onnx_model(const Graph& g, const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(g.ir_version > 8 ? g.ir_version : 8);
  model.set_producer_name("normrt");
  model.set_producer_version(NORMRT_VERSION);
  for (auto& [domain, version] : g.opsets) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  write_graph(g, model.mutable_graph());
  std::ofstream f(path, std::ios::binary);
  if (!f || !model.SerializeToOstream(&f)) throw Error(ErrorCode::IO, "cannot write '" + path + "'");
}

}  // namespace normrt

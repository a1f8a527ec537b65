// Helpers the control-flow ops (control_flow.cpp, scan.cpp) share: where a
// subgraph's outer reads sit among its node's implicit inputs.
#pragma once
#include <algorithm>
#include <vector>

#include "op.h"

namespace normrt {

// For each of body.outer_reads, its index in c.node.implicit_inputs (both sorted).
inline std::vector<size_t> outer_positions(const PlanCtx& c, const Graph& body) {
  std::vector<size_t> pos;
  const auto& imp = c.node.implicit_inputs;
  for (const std::string& name : body.outer_reads) {
    auto it = std::lower_bound(imp.begin(), imp.end(), name);
    if (it == imp.end() || *it != name)
      throw Error(ErrorCode::Internal, c.node.where() + ": subgraph reads '" + name + "', not among the node's inputs");
    pos.push_back(static_cast<size_t>(it - imp.begin()));
  }
  return pos;
}

inline std::vector<ValueDesc> outer_descs(const PlanCtx& c, const std::vector<size_t>& pos) {
  std::vector<ValueDesc> d;
  for (size_t p : pos) d.push_back(c.implicit_in.at(p));
  return d;
}

// The outer values a kernel passes to a subgraph: implicit inputs follow the node's own.
inline std::vector<const Tensor*> outer_values(const KernelIO& io, size_t num_inputs, const std::vector<size_t>& pos) {
  std::vector<const Tensor*> v;
  for (size_t p : pos) v.push_back(io.in.at(num_inputs + p));
  return v;
}

}  // namespace normrt

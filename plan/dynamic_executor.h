// Node-by-node execution, for graphs whose shapes a static plan cannot fix
// in advance (a data-dependent op such as NonZero, a Loop, an If whose
// branches give different shapes), and the subgraph preparation control-flow
// ops use (a static plan of the subgraph where its shapes allow, else this).
#pragma once
#include <memory>
#include <vector>

#include "plan.h"

namespace normrt {

class SubgraphPlannerImpl final : public SubgraphPlanner {
 public:
  explicit SubgraphPlannerImpl(const KernelSet& kernels) : kernels_(kernels) {}
  std::shared_ptr<const PreparedSubgraph> prepare(const Graph& body, const std::vector<ValueDesc>& inputs,
                                                  const std::vector<ValueDesc>& outer,
                                                  bool fixed_shapes) const override;

 private:
  const KernelSet& kernels_;
};

// Runs a graph (or subgraph) node by node in its sorted order, planning each
// node just in time with the shapes of its actual inputs and the values of
// small int32/int64 ones (computed shapes, axes, counts), so Reshape, Slice
// or Expand fed by computed shapes plan as they would statically. Each node
// keeps the plans it made (its kernel with whatever it packed), keyed by
// those shapes and values, so steady runs re-plan nothing. Intermediates are
// released after their last reader. `g` must outlive it. Thread-safe.
class DynamicGraph final : public PreparedSubgraph {
 public:
  DynamicGraph(const Graph& g, const KernelSet& kernels);
  ~DynamicGraph() override;
  void run(const std::vector<const Tensor*>& inputs, const std::vector<const Tensor*>& outer,
           std::vector<Tensor>& outputs) const override;

 private:
  struct NodePlan;
  struct NodeCache;
  std::shared_ptr<const NodePlan> plan_node(size_t n, const std::vector<Tensor>& values, std::string key) const;

  const Graph& g_;
  const KernelSet& kernels_;
  SubgraphPlannerImpl subgraphs_;
  ValueIndex ix_;
  std::vector<Tensor> constants_;  // the initializers, by value id
  std::vector<int> reads_;         // readers of each value (node inputs, implicit ones included)
  std::vector<char> is_output_;
  std::vector<std::vector<int>> node_in_, node_out_;  // per node: value ids (inputs, then implicit inputs)
  std::vector<int> input_ids_, output_ids_;
  std::vector<std::unique_ptr<NodeCache>> caches_;
};

}  // namespace normrt

// Graph: the operator graph a model loads into — nodes, values, initializers.
// Loaders build it; passes and the planner read it.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "boxed_value.h"
#include "normrt/model_types.h"
#include "normrt/tensor.h"

namespace normrt {

struct Graph;

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Floats, Ints, Strings, Graph, Graphs, Unsupported };
  Kind kind = Kind::Unsupported;
  float f = 0;
  int64_t i = 0;
  std::string s;
  normrt::Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::shared_ptr<Graph> g;                    // Kind::Graph: a subgraph (If's branches, Loop's body…)
  std::vector<std::shared_ptr<Graph>> graphs;  // Kind::Graphs
};

struct Node {
  std::string name;  // never empty: the loader names unnamed nodes
  std::string op_type;
  std::string domain;                // "" for ai.onnx
  int64_t opset = 0;                 // the model's opset import for `domain`
  std::vector<std::string> inputs;   // "" = absent optional input
  std::vector<std::string> outputs;  // "" = absent optional output
  std::map<std::string, Attribute> attrs;
  // Values of enclosing scopes that this node's subgraphs read (recursively
  // through nested subgraphs), sorted; filled by validate_and_sort. Sorting,
  // read counts, liveness and the memory plan treat them as inputs of the node.
  std::vector<std::string> implicit_inputs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key) const;  // empty if absent
  const Attribute& attr(const std::string& key) const;           // throws if absent
  std::string where() const;                                     // "node 'name' (Op)" for error messages
  const Graph& subgraph(const std::string& key) const;           // a Kind::Graph attribute; throws if absent
  // Every subgraph the node holds, with its attribute name.
  std::vector<std::pair<std::string, const Graph*>> subgraphs() const;
};

struct Graph {
  std::string name;
  std::string source;  // the model file, for error messages
  int64_t ir_version = 0;
  std::string producer;
  std::vector<std::pair<std::string, int64_t>> opsets;
  std::vector<ValueMeta> inputs;  // graph inputs that are not initializers
  std::vector<ValueMeta> outputs;
  std::map<std::string, Tensor> initializers;
  std::vector<Node> nodes;  // topologically sorted once validate() ran
  // Subgraphs only: where it sits ("If_3/then_branch", nested "Loop_1/body/If_0/else_branch"),
  // empty for the main graph; and the values of enclosing scopes it reads
  // (recursively through its own subgraphs), sorted, filled by validate_and_sort.
  std::string scope;
  std::vector<std::string> outer_reads;

  int64_t opset_for(const std::string& domain) const;  // -1 if not imported
  std::string where() const;                           // "model.onnx" or "model.onnx: subgraph 'If_3/then_branch'"
};

// How deep subgraphs may nest (a subgraph of a subgraph …); deeper is an error naming the node.
inline constexpr int kMaxSubgraphDepth = 64;

// Calls f on every node of g and of its subgraphs, recursively (parents first).
void visit_nodes(const Graph& g, const std::function<void(const Node&, const Graph& owner)>& f);

// Checks structure and sorts nodes topologically: every node input has a
// producer (graph input, initializer or earlier node), no value is produced
// twice, no cycle, every graph output is produced. Subgraphs are checked too,
// recursively: they may read any value of an enclosing scope, and those reads
// become their node's implicit_inputs. Throws Error(InvalidModel).
void validate_and_sort(Graph& graph);

// True when the declared shape has no unknown dim (so plans can be made before the first run).
bool fully_static(const ValueMeta& m);

// "Op" for ai.onnx, "domain::Op" otherwise.
std::string op_key(const std::string& domain, const std::string& op_type);

}  // namespace normrt

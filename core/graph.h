// Graph: the operator graph a model loads into — nodes, values, initializers.
// Loaders build it; passes and the planner read it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "normrt/model_types.h"
#include "normrt/tensor.h"

namespace normrt {

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Floats, Ints, Strings, Unsupported };
  Kind kind = Kind::Unsupported;
  float f = 0;
  int64_t i = 0;
  std::string s;
  normrt::Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
};

struct Node {
  std::string name;  // never empty: the loader names unnamed nodes
  std::string op_type;
  std::string domain;                // "" for ai.onnx
  int64_t opset = 0;                 // the model's opset import for `domain`
  std::vector<std::string> inputs;   // "" = absent optional input
  std::vector<std::string> outputs;  // "" = absent optional output
  std::map<std::string, Attribute> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key) const;  // empty if absent
  const Attribute& attr(const std::string& key) const;           // throws if absent
  std::string where() const;                                     // "node 'name' (Op)" for error messages
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

  int64_t opset_for(const std::string& domain) const;  // -1 if not imported
};

// Checks structure and sorts nodes topologically: every node input has a
// producer (graph input, initializer or earlier node), no value is produced
// twice, no cycle, every graph output is produced. Throws Error(InvalidModel).
void validate_and_sort(Graph& graph);

// True when the declared shape has no unknown dim (so plans can be made before the first run).
bool fully_static(const ValueMeta& m);

// "Op" for ai.onnx, "domain::Op" otherwise.
std::string op_key(const std::string& domain, const std::string& op_type);

}  // namespace normrt

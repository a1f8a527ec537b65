#include "graph.h"

#include <set>
#include <unordered_map>

namespace normrt {

std::string op_key(const std::string& domain, const std::string& op_type) {
  if (domain.empty() || domain == "ai.onnx") return op_type;
  return domain + "::" + op_type;
}

bool fully_static(const ValueMeta& m) {
  if (!m.has_shape) return false;
  for (int64_t d : m.shape)
    if (d < 0) return false;
  return true;
}

std::string Node::where() const { return "node '" + name + "' (" + op_key(domain, op_type) + ")"; }

const Attribute& Node::attr(const std::string& key) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) throw Error(ErrorCode::InvalidModel, where() + ": missing required attribute '" + key + "'");
  return it->second;
}

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (it->second.kind != Attribute::Kind::Int)
    throw Error(ErrorCode::InvalidModel, where() + ": attribute '" + key + "' must be an int");
  return it->second.i;
}

float Node::attr_float(const std::string& key, float fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (it->second.kind != Attribute::Kind::Float)
    throw Error(ErrorCode::InvalidModel, where() + ": attribute '" + key + "' must be a float");
  return it->second.f;
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (it->second.kind != Attribute::Kind::String)
    throw Error(ErrorCode::InvalidModel, where() + ": attribute '" + key + "' must be a string");
  return it->second.s;
}

std::vector<int64_t> Node::attr_ints(const std::string& key) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return {};
  if (it->second.kind != Attribute::Kind::Ints)
    throw Error(ErrorCode::InvalidModel, where() + ": attribute '" + key + "' must be a list of ints");
  return it->second.ints;
}

int64_t Graph::opset_for(const std::string& domain) const {
  for (auto& [d, v] : opsets)
    if (d == domain || (domain.empty() && d == "ai.onnx") || (domain == "ai.onnx" && d.empty())) return v;
  return -1;
}

void validate_and_sort(Graph& g) {
  const std::string where = g.source.empty() ? std::string("model") : g.source;
  auto fail = [&](const std::string& msg) { throw Error(ErrorCode::InvalidModel, where + ": " + msg); };

  // Which node produces each value; -1 = graph input or initializer.
  std::unordered_map<std::string, int> producer;
  for (auto& in : g.inputs) {
    if (in.name.empty()) fail("a graph input has an empty name");
    if (!producer.emplace(in.name, -1).second) fail("graph input '" + in.name + "' is declared twice");
  }
  for (auto& [name, t] : g.initializers) producer.emplace(name, -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (auto& out : g.nodes[i].outputs) {
      if (out.empty()) continue;
      auto [it, fresh] = producer.emplace(out, static_cast<int>(i));
      if (!fresh) {
        std::string other = it->second < 0 ? std::string("a graph input or initializer")
                                           : g.nodes[static_cast<size_t>(it->second)].where();
        fail("value '" + out + "' is produced twice: by " + g.nodes[i].where() + " and by " + other);
      }
    }
  }
  // Kahn's algorithm, keeping the file order among ready nodes.
  std::vector<int> pending(g.nodes.size(), 0);
  std::vector<std::vector<int>> consumers(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::set<int> preds;
    for (auto& in : g.nodes[i].inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it == producer.end())
        fail(g.nodes[i].where() + " reads value '" + in + "', which no node, graph input or initializer produces");
      if (it->second >= 0) preds.insert(it->second);
    }
    pending[i] = static_cast<int>(preds.size());
    for (int p : preds) consumers[static_cast<size_t>(p)].push_back(static_cast<int>(i));
  }
  std::vector<int> order, ready;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (pending[i] == 0) ready.push_back(static_cast<int>(i));
  // Process in ascending index order for a stable, readable result.
  std::set<int> queue(ready.begin(), ready.end());
  while (!queue.empty()) {
    int n = *queue.begin();
    queue.erase(queue.begin());
    order.push_back(n);
    for (int c : consumers[static_cast<size_t>(n)])
      if (--pending[static_cast<size_t>(c)] == 0) queue.insert(c);
  }
  if (order.size() != g.nodes.size()) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (pending[i] > 0) fail("the graph has a cycle through " + g.nodes[i].where());
  }
  std::vector<Node> sorted;
  sorted.reserve(g.nodes.size());
  for (int i : order) sorted.push_back(std::move(g.nodes[static_cast<size_t>(i)]));
  g.nodes = std::move(sorted);

  for (auto& out : g.outputs)
    if (!producer.count(out.name)) fail("graph output '" + out.name + "' is not produced by any node");
}

}  // namespace normrt

#include "graph.h"

#include <set>
#include <unordered_map>

namespace normrt {

std::string op_key(const std::string& domain, const std::string& op_type) {
  if (domain.empty() || domain == "ai.onnx") return op_type;
  return domain + "::" + op_type;
}

bool fully_static(const ValueMeta& m) {
  if (!m.has_shape || m.kind != ValueKind::Tensor) return false;
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

const Graph& Node::subgraph(const std::string& key) const {
  const Attribute& a = attr(key);
  if (a.kind != Attribute::Kind::Graph || !a.g)
    throw Error(ErrorCode::InvalidModel, where() + ": attribute '" + key + "' must be a graph");
  return *a.g;
}

std::vector<std::pair<std::string, const Graph*>> Node::subgraphs() const {
  std::vector<std::pair<std::string, const Graph*>> r;
  for (auto& [key, a] : attrs) {
    if (a.kind == Attribute::Kind::Graph && a.g) r.emplace_back(key, a.g.get());
    if (a.kind == Attribute::Kind::Graphs)
      for (auto& sub : a.graphs)
        if (sub) r.emplace_back(key, sub.get());
  }
  return r;
}

std::string Graph::where() const {
  const std::string file = source.empty() ? std::string("model") : source;
  return scope.empty() ? file : file + ": subgraph '" + scope + "'";
}

void visit_nodes(const Graph& g, const std::function<void(const Node&, const Graph& owner)>& f) {
  for (const Node& n : g.nodes) {
    f(n, g);
    for (auto& [key, sub] : n.subgraphs()) visit_nodes(*sub, f);
  }
}

namespace {

// The names visible in the enclosing scopes of a subgraph, innermost first.
struct Scope {
  const std::unordered_map<std::string, int>* names;
  const Scope* parent;
};
bool visible(const Scope* s, const std::string& name) {
  for (; s; s = s->parent)
    if (s->names->count(name)) return true;
  return false;
}

void validate_scope(Graph& g, const Scope* outer, int depth) {
  const std::string where = g.where();
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
  // Subgraphs first: what they read from here or further out becomes their node's implicit inputs.
  const Scope here{&producer, outer};
  for (Node& n : g.nodes) {
    std::set<std::string> reads;
    for (auto& [key, a] : n.attrs) {
      std::vector<Graph*> subs;
      if (a.kind == Attribute::Kind::Graph && a.g) subs.push_back(a.g.get());
      if (a.kind == Attribute::Kind::Graphs)
        for (auto& sg : a.graphs)
          if (sg) subs.push_back(sg.get());
      for (Graph* sub : subs) {
        if (depth + 1 > kMaxSubgraphDepth)
          fail(n.where() + ": subgraphs are nested more than " + std::to_string(kMaxSubgraphDepth) + " levels deep");
        validate_scope(*sub, &here, depth + 1);
        reads.insert(sub->outer_reads.begin(), sub->outer_reads.end());
      }
    }
    n.implicit_inputs.assign(reads.begin(), reads.end());
  }
  // A value read here but made in an enclosing scope is one of this graph's outer reads.
  std::set<std::string> outer_reads;
  auto resolve = [&](const std::string& name, const std::string& reader) -> int {
    auto it = producer.find(name);
    if (it != producer.end()) return it->second;
    if (outer && visible(outer, name)) {
      outer_reads.insert(name);
      return -1;
    }
    fail(reader + " reads value '" + name + "', which no node, graph input or initializer produces");
    return -1;
  };
  // Kahn's algorithm, keeping the file order among ready nodes.
  std::vector<int> pending(g.nodes.size(), 0);
  std::vector<std::vector<int>> consumers(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::set<int> preds;
    for (const auto* list : {&g.nodes[i].inputs, &g.nodes[i].implicit_inputs})
      for (auto& in : *list) {
        if (in.empty()) continue;
        const int p = resolve(in, g.nodes[i].where());
        if (p >= 0) preds.insert(p);
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

  for (auto& out : g.outputs) {
    if (producer.count(out.name)) continue;
    if (outer && visible(outer, out.name)) {
      outer_reads.insert(out.name);
      continue;
    }
    fail("graph output '" + out.name + "' is not produced by any node");
  }
  g.outer_reads.assign(outer_reads.begin(), outer_reads.end());
}

}  // namespace

void validate_and_sort(Graph& g) { validate_scope(g, nullptr, 0); }

}  // namespace normrt

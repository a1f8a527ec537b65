// String tensors (DType::String: one std::string per element) in ops.
//   StringNormalizer  y = x without the stopwords, then lower-/upper-cased;
//                     one pass; case mapping of UTF-8 text (ASCII, Latin-1,
//                     Latin Extended-A, Greek, Cyrillic; invalid bytes kept)
//   Equal             y[i] = a[.] == b[.] (byte-wise), broadcast
//   data movement     Transpose, Gather, Slice, Concat, Expand, Tile, Where,
//                     … (kByIndex): the op's own kernel runs on the element
//                     indices (int64: iota over the string inputs, numbered
//                     one after the other) and each output string is copied
//                     from the index that comes out. Passes: one iota write
//                     per string input, the op's pass, one gather per output.
// Ops that only re-view (Identity, Reshape, Squeeze…), Shape, Size, Constant
// and Cast take strings as they are. Every other op refuses string tensors
// (plan_node, narrow_floats.cpp).
#include "string_ops.h"

#include <algorithm>
#include <memory>
#include <unordered_set>

#include "../core/utf8.h"
#include "broadcast.h"
#include "op.h"

namespace normrt {

namespace {

// ---- UTF-8 case mapping ----------------------------------------------------

// Latin Extended-A: pairs of (upper, lower) at (even, odd) or (odd, even) code points.
bool extended_a_upper_is_even(char32_t c) { return (c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177); }
bool extended_a_upper_is_odd(char32_t c) { return (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E); }

char32_t lower_of(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x130) return 'i';
  if (c == 0x178) return 0xFF;
  if (c != 0x130 && c != 0x131 && extended_a_upper_is_even(c)) return c % 2 == 0 ? c + 1 : c;
  if (extended_a_upper_is_odd(c)) return c % 2 == 1 ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

char32_t upper_of(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  if (c == 0x131) return 'I';
  if (c == 0x17F) return 'S';
  if (c != 0x130 && c != 0x131 && extended_a_upper_is_even(c)) return c % 2 == 1 ? c - 1 : c;
  if (extended_a_upper_is_odd(c)) return c % 2 == 0 ? c - 1 : c;
  if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

// s with every code point mapped; bytes of invalid sequences are kept as they are.
std::string map_case(const std::string& s, char32_t (*f)(char32_t)) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = decode_utf8(s, i, &cp);
    if (len == 0) {
      out += s[i++];
      continue;
    }
    encode_utf8(f(cp), out);
    i += len;
  }
  return out;
}

// ---- StringNormalizer --------------------------------------------------------

void plan_string_normalizer(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::String});
  const Shape& in = c.input(0).shape;
  const bool two_d = in.size() == 2;
  if (!(in.size() == 1 || (two_d && in[0] == 1))) c.fail("input must have shape [C] or [1, C], not " + shape_str(in));
  const std::string action = c.node.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    c.fail("case_change_action must be LOWER, UPPER or NONE, not '" + action + "'");
  const std::string locale = c.node.attr_string("locale", "");
  if (locale.rfind("tr", 0) == 0 || locale.rfind("az", 0) == 0)
    c.unsupported("locale '" + locale + "' (Turkic casing of i) is not supported");
  const bool case_sensitive = c.node.attr_int("is_case_sensitive", 0) != 0;
  std::vector<std::string> stop;
  if (c.node.has_attr("stopwords")) {
    const Attribute& a = c.node.attr("stopwords");
    if (a.kind != Attribute::Kind::Strings) c.fail("stopwords must be a list of strings");
    stop = a.strings;
  }
  for (std::string& w : stop)
    if (!case_sensitive) w = map_case(w, lower_of);
  const std::unordered_set<std::string> stopwords(stop.begin(), stop.end());
  char32_t (*change)(char32_t) = action == "LOWER" ? lower_of : action == "UPPER" ? upper_of : nullptr;
  if (stopwords.empty())
    c.set_output(0, DType::String, in);
  else
    c.output_shapes_at_run_time();
  c.out[0].dtype = DType::String;
  const bool sized_by_kernel = c.outputs_sized_by_kernel;
  c.kernel = [stopwords, case_sensitive, change, two_d, sized_by_kernel](KernelIO& io) {
    const Span<const std::string> x = io.in[0]->span<std::string>();
    std::vector<std::string> kept;
    for (const std::string& s : x)
      if (stopwords.empty() || !stopwords.count(case_sensitive ? s : map_case(s, lower_of)))
        kept.push_back(change ? map_case(s, change) : s);
    if (kept.empty() && sized_by_kernel) kept.emplace_back();  // all dropped by stopwords: one empty string
    const int64_t n = static_cast<int64_t>(kept.size());
    if (sized_by_kernel) *io.out[0] = Tensor(DType::String, two_d ? Shape{1, n} : Shape{n});
    Span<std::string> y = io.out[0]->span<std::string>();
    if (static_cast<int64_t>(y.size()) != n) throw Error(ErrorCode::Internal, "StringNormalizer: output size");
    std::move(kept.begin(), kept.end(), y.begin());
  };
}

// ---- Equal -------------------------------------------------------------------

void plan_string_equal(PlanCtx& c) {
  c.require_inputs(2, 2);
  if (c.input(0).dtype != DType::String || c.input(1).dtype != DType::String)
    c.fail("compares a string tensor with a " +
           std::string(dtype_name(c.input(0).dtype == DType::String ? c.input(1).dtype : c.input(0).dtype)) +
           " tensor");
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + " and " + shape_str(c.input(1).shape) + " do not broadcast");
  c.set_output(0, DType::Bool, out);
  c.kernel = [](KernelIO& io) {
    broadcast_binary<std::string, std::string, uint8_t>(
        *io.in[0], *io.in[1], *io.out[0], [](const std::string& a, const std::string& b) -> uint8_t { return a == b; },
        [](int64_t rows, int64_t, auto&& body) { body(0, rows); });
  };
}

// ---- Data movement on element indices -------------------------------------------

// What a kByIndex node keeps: the op's kernel planned on int64 indices.
struct ByIndex {
  Kernel inner;
  bool outputs_alias_inputs = false, outputs_sized_by_kernel = false;
  std::vector<size_t> string_inputs;  // in order; input k's elements are numbered from base[k]
  std::vector<int64_t> base;
  std::vector<Tensor> constant_index;  // by input: indices of a string input known at planning
  std::vector<size_t> string_outputs;
};

Tensor iota(const Shape& shape, int64_t from) {
  Tensor t = Tensor::uninitialized(DType::Int64, shape);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = from + i;
  return t;
}

// out = the strings that `index` numbers (over the string inputs of `in`).
void gather_strings(const ByIndex& b, const std::vector<const Tensor*>& in, const Tensor& index, Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  std::string* y = out.data<std::string>();
  const int64_t end = b.base.back();
  for (int64_t i = 0; i < index.numel(); ++i) {
    const int64_t v = idx[i];
    if (v < 0 || v >= end) throw Error(ErrorCode::Internal, "string element index out of range");
    const size_t k = static_cast<size_t>(std::upper_bound(b.base.begin(), b.base.end(), v) - b.base.begin()) - 1;
    y[i] = in[b.string_inputs[k]]->data<std::string>()[v - b.base[k]];
  }
}

void run_by_index(const ByIndex& b, KernelIO& io) {
  KernelIO wio{io.in, io.out};
  std::vector<Tensor> index_in(b.string_inputs.size());
  for (size_t k = 0; k < b.string_inputs.size(); ++k) {
    const size_t i = b.string_inputs[k];
    if (b.constant_index[i].defined()) {
      wio.in[i] = &b.constant_index[i];
    } else {
      index_in[k] = iota(io.in[i]->shape(), b.base[k]);
      wio.in[i] = &index_in[k];
    }
  }
  std::vector<Tensor> index_out(io.out.size());
  for (size_t j : b.string_outputs) {
    if (!b.outputs_alias_inputs && !b.outputs_sized_by_kernel)
      index_out[j] = Tensor::uninitialized(DType::Int64, io.out[j]->shape());
    wio.out[j] = &index_out[j];
  }
  b.inner(wio);
  for (size_t j : b.string_outputs) {
    if (b.outputs_alias_inputs || b.outputs_sized_by_kernel)
      *io.out[j] = Tensor::uninitialized(DType::String, index_out[j].shape());
    gather_strings(b, io.in, index_out[j], *io.out[j]);
  }
}

void plan_by_index(PlanCtx& c) {
  const OpDef* def = op_registry().find(c.node.domain, c.node.op_type);
  if (!def) c.unsupported("no plan for string tensors");
  auto b = std::make_shared<ByIndex>();
  b->constant_index.resize(c.in.size());
  int64_t next = 0;
  for (size_t i = 0; i < c.in.size(); ++i) {
    ValueDesc& d = c.in[i];
    if (!d.present || d.dtype != DType::String) continue;
    b->string_inputs.push_back(i);
    b->base.push_back(next);
    d.dtype = DType::Int64;
    if (d.value) {
      b->constant_index[i] = iota(d.shape, next);
      d.value = &b->constant_index[i];
    }
    next = checked_add(c, next, shape_numel(d.shape, DType::String), "the string elements");
  }
  b->base.push_back(next);
  def->plan(c);
  if (!c.out_value.empty()) c.unsupported("string tensors are not supported by " + c.node.op_type);
  for (size_t j = 0; j < c.out.size(); ++j)
    if (c.out[j].present && c.out[j].dtype == DType::Int64) {
      c.out[j].dtype = DType::String;
      b->string_outputs.push_back(j);
    }
  b->inner = std::move(c.kernel);
  b->outputs_alias_inputs = c.outputs_alias_inputs;
  b->outputs_sized_by_kernel = c.outputs_sized_by_kernel;
  c.detail = (c.detail.empty() ? "" : c.detail + "; ") + "strings moved by index";
  c.kernel = [b](KernelIO& io) { run_by_index(*b, io); };
}

}  // namespace

void register_string_ops(OpRegistry& r) {
  r.add("", "StringNormalizer", {10}, plan_string_normalizer);
  // Ops that take string tensors as they are (re-views, shapes, constants, Cast).
  r.set_string_plan("",
                    {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Size", "Constant", "Cast",
                     "CastLike", "StringNormalizer"},
                    nullptr);
  r.set_string_plan("", {"Equal"}, plan_string_equal);
  // Ops that only move elements (whatever their values): run on indices.
  r.set_string_plan("",
                    {"Transpose", "Gather", "GatherElements", "GatherND", "Split", "Expand", "Tile", "Slice", "Concat",
                     "Where", "Compress", "ReverseSequence", "DepthToSpace", "SpaceToDepth"},
                    plan_by_index);
}

}  // namespace normrt

// Static memory plan: every intermediate value of a plan gets a fixed byte
// offset in one per-run workspace, and values whose lifetimes do not overlap
// share bytes. Made once per plan (so again when input shapes change).
//   buffer    a value a kernel allocates (not graph outputs, not constants,
//             not re-views); a re-view (Reshape, Identity…) extends its
//             source buffer's lifetime over its own readers
//   lifetime  sequential plans: [producer step, last reader step];
//             plans with parallel branches: A may share with B only if every
//             step touching A is a strict ancestor of B's producer (or vice
//             versa) — true whatever order concurrent branches run in
//   placing   largest first, each at the lowest 64-byte aligned offset free
//             of every conflicting buffer already placed ("greedy by size")
//   slices    a Concat of one outer row (axis 0, or batch 1 on the channels)
//             has its inputs written in place: an input that only this Concat
//             reads, made by a step of its own, is placed at its slice of the
//             Concat's output (when the slice starts 64-byte aligned), whose
//             lifetime then starts at the first such producer; the Concat
//             copies only the other inputs (SqueezeNet's and Inception's
//             branches, which at 2 threads cost a pass over data the other
//             core wrote)
// A buffer that escapes to the caller (a re-view that is a graph output) is
// left out and allocated per run, and so is every string tensor (the arena
// holds plain bytes only; a String tensor's std::string objects are made and
// destroyed with their own buffer).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plan.h"

namespace normrt {

namespace {
constexpr size_t kMaxStepsForAncestry = 8192;  // beyond: no sharing across parallel branches

struct Slice {
  int value = -1, concat_out = -1;
  uint64_t offset = 0;  // bytes from the Concat output's start
};

// The Concat inputs that can be written in place (see the header): per such
// input, its slice of a Concat output that is itself a buffer of its own.
std::vector<Slice> concat_slices(const Plan& p, const std::vector<int>& root, const std::vector<int>& producer,
                                 const std::vector<char>& escapes) {
  std::vector<Slice> slices;
  for (const PlanStep& st : p.steps) {
    if (st.node->op_type != "Concat" || !st.node->domain.empty() || st.out.size() != 1 || st.out[0] < 0) continue;
    const int o = st.out[0];
    const Shape& os = p.value_shape[static_cast<size_t>(o)];
    const int64_t rank = static_cast<int64_t>(os.size());
    int64_t axis = st.node->attr_int("axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank || root[static_cast<size_t>(o)] != o || escapes[static_cast<size_t>(o)] ||
        p.is_graph_output[static_cast<size_t>(o)] || p.value_dtype[static_cast<size_t>(o)] == DType::String)
      continue;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= os[static_cast<size_t>(d)];
    if (outer != 1) continue;
    uint64_t offset = 0;
    for (size_t i = 0; i < st.in.size(); ++i) {
      const int v = st.in[i];
      if (v < 0) continue;
      const uint64_t bytes = p.value_bytes[static_cast<size_t>(v)];
      const bool once = std::count(st.in.begin(), st.in.end(), v) == 1;
      if (once && !p.constants[static_cast<size_t>(v)].defined() && root[static_cast<size_t>(v)] == v &&
          producer[static_cast<size_t>(v)] >= 0 && p.reads[static_cast<size_t>(v)] == 1 &&
          !p.is_graph_output[static_cast<size_t>(v)] && bytes > 0 && offset % 64 == 0)
        slices.push_back({v, o, offset});
      offset += bytes;
    }
  }
  // A Concat output that is itself a slice (nested Concats): its slices go to the outermost buffer.
  std::vector<int> slice_of(p.value_bytes.size(), -1);
  for (size_t i = 0; i < slices.size(); ++i) slice_of[static_cast<size_t>(slices[i].value)] = static_cast<int>(i);
  for (Slice& sl : slices)
    for (int outer = slice_of[static_cast<size_t>(sl.concat_out)]; outer >= 0;
         outer = slice_of[static_cast<size_t>(sl.concat_out)]) {
      sl.offset += slices[static_cast<size_t>(outer)].offset;
      sl.concat_out = slices[static_cast<size_t>(outer)].concat_out;
    }
  return slices;
}
}  // namespace

void plan_memory(Plan& p) {
  const size_t nv = static_cast<size_t>(p.num_values), ns = p.steps.size();
  p.arena_offset.assign(nv, -1);
  p.arena_bytes = 0;
  p.intermediate_bytes = 0;
  // root[v]: the buffer a value lives in (itself, or its re-viewed source's root).
  std::vector<int> root(nv, -1), producer(nv, -1);
  std::vector<char> escapes(nv, 0);
  for (size_t s = 0; s < ns; ++s) {
    const PlanStep& st = p.steps[s];
    for (int id : st.out) {
      if (id < 0) continue;
      producer[id] = static_cast<int>(s);
      if (!st.outputs_alias_inputs) {
        root[id] = id;
        continue;
      }
      const int src = st.in.empty() ? -1 : st.in[0];
      root[id] = src >= 0 ? root[src] : -1;  // -1: a constant or graph input, or memory the kernel made
      if (root[id] >= 0 && p.is_graph_output[id]) escapes[root[id]] = 1;
    }
  }
  // Concat inputs written in place are not buffers of their own: their steps touch the Concat's output.
  const std::vector<Slice> slices = concat_slices(p, root, producer, escapes);
  for (const Slice& sl : slices) root[static_cast<size_t>(sl.value)] = sl.concat_out;
  // The steps that touch each buffer: its producer, readers of it and of its re-views.
  std::vector<std::vector<int>> touch(nv);
  for (size_t s = 0; s < ns; ++s) {
    const PlanStep& st = p.steps[s];
    for (int id : st.in)
      if (id >= 0 && root[id] >= 0) touch[root[id]].push_back(static_cast<int>(s));
    for (int id : st.out)
      if (id >= 0 && root[id] >= 0) touch[root[id]].push_back(static_cast<int>(s));
  }
  std::vector<int> buffers;
  for (size_t v = 0; v < nv; ++v)
    if (root[v] == static_cast<int>(v) && !escapes[v] && !p.is_graph_output[v] && p.value_bytes[v] > 0 &&
        p.value_dtype[v] != DType::String)  // strings own heap memory: allocated per run
      buffers.push_back(static_cast<int>(v));
  for (int b : buffers) p.intermediate_bytes += p.value_bytes[b];
  const bool parallel = p.has_parallel_branches;
  if (parallel && ns > kMaxStepsForAncestry) return;  // every buffer allocated per run
  // Ancestor sets (strict) of every step, as bitsets, for plans with branches.
  const size_t words = (ns + 63) / 64;
  std::vector<uint64_t> anc(parallel ? ns * words : 0, 0);
  if (parallel) {
    for (size_t s = 0; s < ns; ++s)
      for (int succ : p.steps[s].successors) {
        uint64_t* a = &anc[static_cast<size_t>(succ) * words];
        const uint64_t* from = &anc[s * words];
        for (size_t w = 0; w < words; ++w) a[w] |= from[w];
        a[s / 64] |= uint64_t{1} << (s % 64);
      }
  }
  // The steps that start each buffer: its producer, and those of the slices written into it.
  std::vector<std::vector<int>> starts(nv);
  for (int b : buffers) starts[b].push_back(producer[b]);
  for (const Slice& sl : slices) starts[sl.concat_out].push_back(producer[static_cast<size_t>(sl.value)]);
  std::vector<int> first(nv, 0), last(nv, 0);
  for (int b : buffers) {
    first[b] = *std::min_element(starts[b].begin(), starts[b].end());
    last[b] = *std::max_element(touch[b].begin(), touch[b].end());
  }
  // a is done before b starts (before each of b's starting steps, in plans with branches)
  const auto before = [&](int a, int b) {
    if (!parallel) return last[a] < first[b];
    for (int start : starts[b]) {
      const uint64_t* ab = &anc[static_cast<size_t>(start) * words];
      for (int s : touch[a])
        if (!(ab[static_cast<size_t>(s) / 64] >> (s % 64) & 1)) return false;
    }
    return true;
  };
  std::sort(buffers.begin(), buffers.end(), [&](int a, int b) {
    return p.value_bytes[a] != p.value_bytes[b] ? p.value_bytes[a] > p.value_bytes[b] : a < b;
  });
  struct Placed {
    int id;
    uint64_t begin, end;
  };
  std::vector<Placed> placed, busy;
  for (int b : buffers) {
    const uint64_t size = (p.value_bytes[b] + 63) / 64 * 64;
    busy.clear();
    for (const Placed& q : placed)
      if (!before(q.id, b) && !before(b, q.id)) busy.push_back(q);
    std::sort(busy.begin(), busy.end(), [](const Placed& x, const Placed& y) { return x.begin < y.begin; });
    uint64_t offset = 0;
    for (const Placed& q : busy) {
      if (q.begin >= offset + size) break;
      offset = std::max(offset, q.end);
    }
    placed.push_back({b, offset, offset + size});
    p.arena_offset[b] = static_cast<int64_t>(offset);
    p.arena_bytes = std::max(p.arena_bytes, offset + size);
  }
  // A workspace beyond the per-tensor limit is not made at all: every buffer
  // is then allocated on its own, as without a plan.
  if (p.arena_bytes > max_tensor_bytes()) {
    std::fill(p.arena_offset.begin(), p.arena_offset.end(), -1);
    p.arena_bytes = 0;
    return;
  }
  // Re-views use their root's placement; slices are placed inside theirs.
  for (size_t v = 0; v < nv; ++v)
    if (root[v] >= 0 && root[v] != static_cast<int>(v)) p.arena_offset[v] = -1;
  for (const Slice& sl : slices)
    if (p.arena_offset[static_cast<size_t>(sl.concat_out)] >= 0)
      p.arena_offset[static_cast<size_t>(sl.value)] =
          p.arena_offset[static_cast<size_t>(sl.concat_out)] + static_cast<int64_t>(sl.offset);
}

}  // namespace normrt

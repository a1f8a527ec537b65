// Splitting a kernel's independent rows (or channel planes) over the current
// task arena. Each row is computed by one thread from start to end, so results
// never depend on the thread count; small tensors run inline because waking
// workers costs more than it saves.
#pragma once
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>

namespace normrt {

// Set while a single-threaded session runs on the caller's thread (no arena):
// kernels then never hand work to TBB.
inline thread_local bool t_run_inline = false;

struct RunInlineScope {
  bool saved = t_run_inline;
  RunInlineScope() { t_run_inline = true; }
  ~RunInlineScope() { t_run_inline = saved; }
};

inline constexpr int64_t kParallelMinWork = int64_t{1} << 15;  // elements touched before splitting pays
inline constexpr int64_t kParallelChunkWork = int64_t{1} << 14;

// a · b (>= 0) for a work estimate, saturating at INT64_MAX: sizes taken from
// different tensors can overflow together when one of them is empty.
inline int64_t work_mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

// ⌊rows · p / parts⌋ for 0 <= p <= parts, without forming rows · p.
inline int64_t part_start(int64_t rows, int64_t p, int64_t parts) {
  return rows / parts * p + rows % parts * p / parts;
}

// body(begin, end) over [0, rows); work_per_row ~ elements touched per row.
template <class F>
void parallel_rows(int64_t rows, int64_t work_per_row, F&& body) {
  if (rows <= 0) return;
  work_per_row = std::max<int64_t>(1, work_per_row);
  if (rows == 1 || work_per_row <= (kParallelMinWork - 1) / rows || t_run_inline ||  // rows · work < min, no overflow
      tbb::this_task_arena::max_concurrency() <= 1) {
    body(int64_t{0}, rows);
    return;
  }
  // One contiguous part per thread (at least a grain each), spawned as plain
  // tasks: tbb::static_partitioner would do the same split but hands parts to
  // threads through affinity mailboxes, whose proxy tasks are heap-allocated
  // on every run when the threads are busy (tests/test_alloc.cpp).
  const int64_t grain = std::max<int64_t>(1, kParallelChunkWork / work_per_row);
  const int64_t parts = std::min<int64_t>(tbb::this_task_arena::max_concurrency(), rows / grain + (rows % grain != 0));
  if (parts <= 1) {
    body(int64_t{0}, rows);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, parts, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t p = r.begin(); p < r.end(); ++p) body(part_start(rows, p, parts), part_start(rows, p + 1, parts));
      },
      tbb::simple_partitioner());
}

}  // namespace normrt

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

// body(begin, end) over [0, rows); work_per_row ~ elements touched per row.
template <class F>
void parallel_rows(int64_t rows, int64_t work_per_row, F&& body) {
  if (rows <= 0) return;
  work_per_row = std::max<int64_t>(1, work_per_row);
  if (rows == 1 || rows * work_per_row < kParallelMinWork || t_run_inline ||
      tbb::this_task_arena::max_concurrency() <= 1) {
    body(int64_t{0}, rows);
    return;
  }
  int64_t grain = std::max<int64_t>(1, kParallelChunkWork / work_per_row);
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, rows, static_cast<size_t>(grain)),
      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); }, tbb::static_partitioner());
}

}  // namespace normrt

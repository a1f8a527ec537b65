// Splitting a kernel's independent rows (or channel planes) over the current
// task arena. Each row is computed by one thread from start to end, so results
// never depend on the thread count; small tensors run inline because waking
// workers costs more than it saves.
//
// NORMRT_TSAN_THREADS (the ThreadSanitizer build only, scripts/sanitize.sh):
// libtbb is not instrumented, so a hand-off through it (a spawned task, a
// parallel_for chunk, an arena entry) is invisible to TSan and every access
// after it would look racy. In that build the same splits run on std::thread
// (whose start and join TSan sees) and the session's arena only sets the
// thread count: TSan then checks the executor's dependency counting, buffer
// release and every kernel's row split exactly as they run, without
// suppressing anything inside our code.
#pragma once
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#ifdef NORMRT_TSAN_THREADS
#include <exception>
#include <thread>
#include <vector>
#endif

namespace normrt {

// Set while a single-threaded session runs on the caller's thread (no arena):
// kernels then never hand work to TBB.
inline thread_local bool t_run_inline = false;

struct RunInlineScope {
  bool saved = t_run_inline;
  RunInlineScope() { t_run_inline = true; }
  ~RunInlineScope() { t_run_inline = saved; }
};

#ifdef NORMRT_TSAN_THREADS
inline thread_local int t_tsan_threads = 1;  // the running session's thread count

// Runs f on a new std::thread that inherits the caller's thread count.
template <class F>
std::thread start_thread(F&& f) {
  return std::thread([threads = t_tsan_threads, f = std::forward<F>(f)]() mutable {
    t_tsan_threads = threads;
    f();
  });
}
#endif

// How many threads a kernel may split its work over here.
inline int intra_op_threads() {
  if (t_run_inline) return 1;
#ifdef NORMRT_TSAN_THREADS
  return t_tsan_threads;
#else
  return std::max(1, tbb::this_task_arena::max_concurrency());
#endif
}

// Runs f inside `arena` (its threads serve f's parallel work).
template <class F>
void run_in_arena(tbb::task_arena& arena, F&& f) {
#ifdef NORMRT_TSAN_THREADS
  const int saved = t_tsan_threads;
  t_tsan_threads = arena.max_concurrency();
  try {
    f();
  } catch (...) {
    t_tsan_threads = saved;
    throw;
  }
  t_tsan_threads = saved;
#else
  arena.execute(f);
#endif
}

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
  const int threads = intra_op_threads();
  if (rows == 1 || work_per_row <= (kParallelMinWork - 1) / rows || threads <= 1) {  // rows · work < min, no overflow
    body(int64_t{0}, rows);
    return;
  }
  // kPartsPerThread contiguous parts per thread (at least a grain each),
  // spawned as plain tasks: each thread works through one contiguous half of
  // them in order (a GEMM's consecutive tasks share a chunk of B) and the
  // other steals its last parts when it finishes first — the cores of a shared
  // host do not run at one speed (a vCPU whose core another tenant is busy on
  // ran a 2-thread BERT-base int8 at 44 ms with one part per thread, 27–33 with
  // four). tbb::static_partitioner would split once, but hands parts to threads
  // through affinity mailboxes, whose proxy tasks are heap-allocated on every
  // run when the threads are busy (tests/test_alloc.cpp).
  const int64_t grain = std::max<int64_t>(1, kParallelChunkWork / work_per_row);
#ifdef NORMRT_TSAN_THREADS
  constexpr int64_t kPartsPerThread = 1;  // one std::thread per part
#else
  constexpr int64_t kPartsPerThread = 4;
#endif
  const int64_t parts = std::min<int64_t>(threads * kPartsPerThread, rows / grain + (rows % grain != 0));
  if (parts <= 1) {
    body(int64_t{0}, rows);
    return;
  }
#ifdef NORMRT_TSAN_THREADS
  std::vector<std::thread> helpers;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  for (int64_t p = 1; p < parts; ++p)
    helpers.push_back(start_thread([&, p] {
      try {
        body(part_start(rows, p, parts), part_start(rows, p + 1, parts));
      } catch (...) {
        errors[static_cast<size_t>(p)] = std::current_exception();
      }
    }));
  try {
    body(int64_t{0}, part_start(rows, 1, parts));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : helpers) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return;
#endif
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, parts, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t p = r.begin(); p < r.end(); ++p) body(part_start(rows, p, parts), part_start(rows, p + 1, parts));
      },
      tbb::simple_partitioner());
}

}  // namespace normrt

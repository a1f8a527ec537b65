// Steady-state runs allocate nothing: after warm-up, Session::run_into with
// unchanged input shapes and caller-owned output buffers must make no heap
// allocation anywhere in the process (every thread, TBB's included), and
// Session::run makes only the allocations session.h documents for it (its
// returned outputs). The C allocator is interposed (malloc, calloc, realloc,
// aligned_alloc, posix_memalign, memalign forward to glibc's __libc_* and are
// counted), so operator new, std::vector and tensor buffers are all seen.
// TBB's own allocations (task objects, arenas) would go to its scalable
// allocator, libtbbmalloc, which gets memory by mmap and would not be seen:
// this program refuses libtbb's dlopen of libtbbmalloc, so TBB falls back to
// malloc (counted), and checks that it did.
// Built without sanitizers only (they interpose the allocator themselves).
//   test_alloc MODEL_DIR...   (each an ONNX test folder: model.onnx + test_data_set_0)
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "normrt/normrt.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

// libtbb loads its scalable allocator with dlopen on first use; refusing it
// makes TBB allocate with malloc, which is counted below.
extern "C" void* dlopen(const char* file, int mode) {
  if (file && std::strstr(file, "tbbmalloc")) return nullptr;
  using DlopenFn = void* (*)(const char*, int);
  static DlopenFn real = reinterpret_cast<DlopenFn>(dlsym(RTLD_NEXT, "dlopen"));
  return real(file, mode);
}

// Whether libtbbmalloc is mapped into the process (libtbb's own
// is_tbbmalloc_used() answers the opposite in oneTBB 2021.8, so it is not used).
static int find_tbbmalloc(struct dl_phdr_info* info, size_t, void* found) {
  if (info->dlpi_name && std::strstr(info->dlpi_name, "tbbmalloc")) *static_cast<bool*>(found) = true;
  return 0;
}
static bool tbbmalloc_loaded() {
  bool found = false;
  dl_iterate_phdr(find_tbbmalloc, &found);
  return found;
}

static std::atomic<long> g_allocations{0};
static std::atomic<bool> g_counting{false};
static std::atomic<bool> g_tracing{false};  // only run_into's windows are traced

static int g_trace = 0;  // NORMRT_ALLOC_TRACE=N: print the first N allocation backtraces (symbolize with addr2line)
static thread_local bool t_in_trace = false;

static void count() {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  const long n = g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n < g_trace && !t_in_trace && g_tracing.load(std::memory_order_relaxed)) {
    t_in_trace = true;
    void* frames[24];
    const int k = backtrace(frames, 24);
    const char sep[] = "---- allocation\n";
    (void)!write(2, sep, sizeof sep - 1);
    backtrace_symbols_fd(frames, k, 2);
    t_in_trace = false;
  }
}

extern "C" {
void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* aligned_alloc(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
void* memalign(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  count();
  *out = __libc_memalign(align, n);
  return *out ? 0 : 12;
}
}

int main(int argc, char** argv) {
  int failures = 0;
  if (const char* t = std::getenv("NORMRT_ALLOC_TRACE")) g_trace = std::atoi(t);
  void* warm[2];
  backtrace(warm, 2);  // loads the unwinder before counting starts
  for (int a = 1; a < argc; ++a) {
    const std::string dir = argv[a];
    for (int threads : {1, 2}) {
      normrt::SessionOptions o;
      o.threads = threads;
      normrt::Session s(dir + "/model.onnx", o);
      normrt::NamedTensors in;
      for (size_t k = 0; k < s.inputs().size(); ++k)
        in.emplace_back(s.inputs()[k].name,
                        normrt::read_tensor_file(dir + "/test_data_set_0/input_" + std::to_string(k) + ".pb"));
      normrt::NamedTensors out = s.run(in);  // shapes and dtypes of the outputs: own buffers for run_into
      // Warm-up: every worker thread's kernel scratch and TBB's task pools
      // reach their sizes (which thread steals what varies between runs).
      for (int i = 0; i < 30; ++i) s.run_into(in, out);
      const int runs = 20;
      long n = 0;
      for (int window = 0; window < 3; ++window) {  // a later window may still see a worker's first growth
        g_allocations = 0;
        g_tracing = g_counting = true;
        for (int i = 0; i < runs; ++i) s.run_into(in, out);
        g_tracing = g_counting = false;
        n = g_allocations.load();
        if (n == 0) break;
      }
      std::printf("%s, %d thread(s): %ld heap allocations in %d steady-state runs\n", dir.c_str(), threads, n, runs);
      if (n != 0) ++failures;

      // Session::run: only what it returns (session.h): the result vector, and
      // per output its buffer, the tensor's shared state, its shape and its name.
      const long documented = 1 + 4 * static_cast<long>(out.size());
      long worst = 0;
      for (int window = 0; window < 3; ++window) {  // as above: a worker's first growth may land in a window
        worst = 0;
        for (int i = 0; i < runs; ++i) {
          g_allocations = 0;
          g_counting = true;
          { normrt::NamedTensors r = s.run(in); }
          g_counting = false;
          worst = std::max(worst, g_allocations.load());
        }
        if (worst <= documented) break;
      }
      std::printf(
          "%s, %d thread(s): Session::run makes at most %ld heap allocations (documented bound %ld for %zu "
          "outputs)\n",
          dir.c_str(), threads, worst, documented, out.size());
      if (worst > documented) ++failures;
    }
  }
  // Had libtbb loaded its scalable allocator, TBB's allocations would have bypassed the counting.
  if (tbbmalloc_loaded()) {
    std::printf("libtbb uses libtbbmalloc: its allocations were not counted\n");
    ++failures;
  }
  return failures ? 1 : 0;
}

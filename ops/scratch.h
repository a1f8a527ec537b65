// Kernel scratch memory without steady-state allocation: each thread keeps a
// stack of buffers that only grow. A kernel takes one for its duration
// (Scratch<float> col(n)); nesting on one thread — a TBB worker that steals
// another step while waiting inside parallel_for — is strictly last-in
// first-out, so the depth-indexed stack is safe. After the first run of a
// plan every request fits an existing buffer.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "normrt/error.h"
#include "normrt/tensor.h"

namespace normrt {

namespace detail {
struct ScratchStack {
  struct Block {
    void* p = nullptr;
    size_t bytes = 0;
    ~Block() { std::free(p); }
  };
  std::vector<std::unique_ptr<Block>> blocks;
  size_t depth = 0;
};
inline thread_local ScratchStack t_scratch;
}  // namespace detail

template <class T>
class Scratch {
 public:
  // An empty request takes no buffer (and no stack depth: a thread's deepest
  // nesting, where a first-time allocation can happen, stays shallower).
  explicit Scratch(size_t count) {
    if (count == 0) {  // a valid, never-written pointer (memcpy and friends must not see null)
      alignas(64) static T empty[1];
      data_ = empty;
      return;
    }
    if (count > max_tensor_bytes() / sizeof(T))
      throw Error(ErrorCode::InvalidArgument, "kernel scratch of " + std::to_string(count) + " elements exceeds the " +
                                                  std::to_string(max_tensor_bytes()) + "-byte limit");
    auto& s = detail::t_scratch;
    if (s.blocks.capacity() == 0) s.blocks.reserve(32);
    if (s.depth == s.blocks.size()) s.blocks.push_back(std::make_unique<detail::ScratchStack::Block>());
    detail::ScratchStack::Block& b = *s.blocks[s.depth];
    const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
    if (b.bytes < bytes) {
      std::free(b.p);
      b.p = std::aligned_alloc(64, bytes);
      if (!b.p) {
        b.bytes = 0;
        throw Error(ErrorCode::InvalidArgument,
                    "cannot allocate " + std::to_string(bytes) + " bytes of kernel scratch");
      }
      b.bytes = bytes;
    }
    ++s.depth;
    taken_ = true;
    data_ = static_cast<T*>(b.p);
  }
  ~Scratch() {
    if (taken_) --detail::t_scratch.depth;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* data() const { return data_; }
  T& operator[](size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  bool taken_ = false;  // holds a level of the thread's stack
};

}  // namespace normrt

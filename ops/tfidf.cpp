// TfIdfVectorizer (version 9) over int32/int64 tokens X = [C] or [B, C]:
// the pool (pool_int64s; ngram_counts[i] = where the (i + 1)-grams start)
// lists n-grams, the j-th of which counts into output column ngram_indexes[j].
// Per row, for each skip distance d = 1 .. max_skip_count + 1 and each start s,
// the n-gram x[s], x[s + d], …, x[s + (n − 1)d] of each length n in
// [min_gram_length, max_gram_length] that is in the pool adds 1 to its column
// (unigrams at d = 1 only, as ONNX's reference). Then
//   TF: the counts; IDF: weights[col] (or 1) where the count > 0; TFIDF: count · weights[col]
// (weights index output columns, as ONNX's reference and ONNX Runtime do).
// String pools need string tensors, which normrt does not have.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "op.h"

namespace normrt {

namespace {

enum class TfIdfMode { TF, IDF, TFIDF };

struct TfIdfParams {
  std::map<std::vector<int64_t>, int64_t> column;  // pool n-gram (of a counted length) → output column
  std::set<std::vector<int64_t>> prefixes;         // every prefix of those n-grams
  int64_t min_n = 1, max_n = 1, max_skip = 0, out_size = 0, rows = 1, cols = 0;
  TfIdfMode mode = TfIdfMode::TF;
  std::vector<float> weights;
};

template <class T>
void tfidf_reference(const T* x, float* y, const TfIdfParams& p) {
  if (p.rows == 0) return;  // an empty output may still have 2^31 − 1 columns: no counts for them
  std::vector<int64_t> gram;
  std::vector<int64_t> counts(static_cast<size_t>(p.out_size));
  // a skip distance of C or more fits no n-gram longer than 1
  const int64_t max_distance = std::min(p.max_skip, std::max<int64_t>(p.cols - 1, 0)) + 1;
  for (int64_t r = 0; r < p.rows; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    const T* row = x + r * p.cols;
    int64_t first_n = p.min_n;
    for (int64_t d = 1; d <= max_distance && first_n <= p.max_n; ++d) {
      for (int64_t s = 0; s < p.cols; ++s) {
        gram.clear();
        for (int64_t n = 1, at = s; n <= p.max_n && at < p.cols; ++n, at += d) {
          gram.push_back(static_cast<int64_t>(row[at]));
          if (!p.prefixes.count(gram)) break;
          if (n < first_n) continue;
          auto hit = p.column.find(gram);
          if (hit != p.column.end()) ++counts[static_cast<size_t>(hit->second)];
        }
      }
      if (first_n == 1) first_n = 2;  // unigrams once, whatever the skip
    }
    float* yr = y + r * p.out_size;
    for (int64_t k = 0; k < p.out_size; ++k) {
      const double count = static_cast<double>(counts[static_cast<size_t>(k)]);
      const double w = p.weights.empty() ? 1.0 : p.weights[static_cast<size_t>(k)];
      switch (p.mode) {
        case TfIdfMode::TF:
          yr[k] = static_cast<float>(count);
          break;
        case TfIdfMode::IDF:
          yr[k] = static_cast<float>(count > 0 ? w : 0.0);
          break;
        case TfIdfMode::TFIDF:
          yr[k] = static_cast<float>(count * w);
          break;
      }
    }
  }
}

void plan_tfidf(PlanCtx& c) {
  c.require_inputs(1, 1);
  if (c.node.has_attr("pool_strings")) c.unsupported("string pools (normrt has no string tensors)");
  c.require_dtype(0, {DType::Int32, DType::Int64});
  const Shape& X = c.input(0).shape;
  TfIdfParams p;
  if (X.size() == 1) {
    p.cols = X[0];
  } else if (X.size() == 2) {
    p.rows = X[0];
    p.cols = X[1];
  } else {
    c.fail("X must be [C] or [B, C]");
  }
  const std::string mode = c.node.attr_string("mode", "");
  if (mode == "TF")
    p.mode = TfIdfMode::TF;
  else if (mode == "IDF")
    p.mode = TfIdfMode::IDF;
  else if (mode == "TFIDF")
    p.mode = TfIdfMode::TFIDF;
  else
    c.fail("mode must be TF, IDF or TFIDF, got '" + mode + "'");
  p.min_n = c.node.attr_int("min_gram_length", 0);
  p.max_n = c.node.attr_int("max_gram_length", 0);
  p.max_skip = c.node.attr_int("max_skip_count", 0);
  if (p.min_n < 1 || p.max_n < p.min_n)
    c.fail("need 1 <= min_gram_length <= max_gram_length, got " + std::to_string(p.min_n) + " and " +
           std::to_string(p.max_n));
  if (p.max_skip < 0) c.fail("max_skip_count must not be negative");
  const std::vector<int64_t> pool = c.node.attr_ints("pool_int64s");
  const std::vector<int64_t> starts = c.node.attr_ints("ngram_counts");
  const std::vector<int64_t> indexes = c.node.attr_ints("ngram_indexes");
  if (indexes.empty()) c.fail("ngram_indexes must not be empty");
  for (int64_t v : indexes) {
    if (v < 0 || v >= (int64_t{1} << 31)) c.fail("ngram_indexes values must be in [0, 2^31)");
    p.out_size = std::max(p.out_size, v + 1);
  }
  const int64_t pool_size = static_cast<int64_t>(pool.size());
  int64_t ordinal = 0;  // of the pool's n-grams, over every length
  for (size_t level = 0; level < starts.size(); ++level) {
    const int64_t n = static_cast<int64_t>(level) + 1;
    const int64_t begin = starts[level], end = level + 1 < starts.size() ? starts[level + 1] : pool_size;
    if (begin < 0 || end < begin || end > pool_size)
      c.fail("ngram_counts must be non-decreasing offsets into pool_int64s");
    if ((end - begin) % n != 0) c.fail("the " + std::to_string(n) + "-grams of the pool do not fill whole n-grams");
    for (int64_t at = begin; at < end; at += n, ++ordinal) {
      if (ordinal >= static_cast<int64_t>(indexes.size())) c.fail("ngram_indexes has fewer entries than the pool");
      if (n < p.min_n || n > p.max_n) continue;
      std::vector<int64_t> gram(pool.begin() + at, pool.begin() + at + n);
      p.column[gram] = indexes[static_cast<size_t>(ordinal)];  // a repeated n-gram keeps the last column
      for (size_t k = 1; k <= gram.size(); ++k) p.prefixes.insert(std::vector<int64_t>(gram.begin(), gram.begin() + k));
    }
  }
  if (c.node.has_attr("weights")) {
    const auto& a = c.node.attrs.at("weights");
    p.weights.assign(a.floats.begin(), a.floats.end());
    if (!p.weights.empty() && static_cast<int64_t>(p.weights.size()) < p.out_size)
      c.fail("weights must give one value per output column (" + std::to_string(p.out_size) + ")");
  }
  c.set_output(0, DType::Float32, X.size() == 1 ? Shape{p.out_size} : Shape{p.rows, p.out_size});
  const bool int32 = c.input(0).dtype == DType::Int32;
  c.kernel = [p, int32](KernelIO& io) {
    float* y = io.out[0]->data<float>();
    if (int32)
      tfidf_reference(io.in[0]->data<int32_t>(), y, p);
    else
      tfidf_reference(io.in[0]->data<int64_t>(), y, p);
  };
}

}  // namespace

void register_tfidf(OpRegistry& r) { r.add("", "TfIdfVectorizer", {9}, plan_tfidf); }

}  // namespace normrt

// What the normrt subcommands share: session options from flags, inputs
// (files, a test_data_set folder, or seeded random with --shape sets),
// comparison against expected outputs, and small statistics helpers.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cli_args.h"
#include "normrt/normrt.h"

namespace normrt::cli {

SessionOptions session_options(const Args& a);
std::string dims_str(const ValueMeta& m);
double element_as_double(const Tensor& t, int64_t i);
Tensor random_tensor(DType dt, const Shape& shape, std::mt19937_64& rng);
void print_tensor(const std::string& name, const Tensor& t, int64_t count);
std::string file_name_for(const std::string& name);
double percentile(std::vector<double> sorted_or_not, double p);

// Where each input comes from. --input files win over --data-dir files; the
// rest are seeded random tensors shaped by one of the --shape sets.
struct InputPlan {
  std::map<std::string, std::string> files;
  std::string data_dir;
  std::vector<std::map<std::string, Shape>> shape_sets;  // at least one (maybe empty)
  uint64_t seed = 0;
};
// Reads --input, --data-dir, --shape (an input named k times makes k sets) and --seed.
InputPlan parse_input_plan(const Session& s, const Args& a);
NamedTensors make_inputs(const Session& s, const InputPlan& plan, const std::map<std::string, Shape>& shapes);
std::string shape_set_label(const std::map<std::string, Shape>& shapes);

// output_N.pb of a test_data_set folder, by output index (nullopt where absent).
// A tensor file's contents for a value the model declares as `declared`:
// uint16 data for a bfloat16 value is taken as bfloat16 bits (ONNX before
// 1.13 wrote bfloat16 test data as uint16, numpy having no bfloat16).
Tensor read_tensor_for(const std::string& path, DType declared);
std::vector<std::optional<Tensor>> read_expected_outputs(const Session& s, const std::filesystem::path& dir);

struct Compare {
  double max_abs = 0, max_rel = 0;
  bool pass = true;
  std::string why;
};
Compare compare(const Tensor& got, const Tensor& want, double rtol, double atol);
// Sequences item by item, optionals by contents (both empty, or both holding what compares).
Compare compare_values(const Value& got, const Value& want, double rtol, double atol);
// A .pb file as the value `declared` says (a tensor, sequence or optional).
Value read_value_for(const std::string& path, const ValueMeta& declared);
// "float32 [1,3]" for a tensor, "seq(tensor(float32)) [?,3]" (items' dims) for the others.
std::string value_type_dims(const ValueMeta& m);

}  // namespace normrt::cli

// Loads a model (the bundled example by default), runs it on ones, and prints
// each output's name, shape and first values.   consumer MODEL
#include <normrt/normrt.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "models/example/model.onnx";
  try {
    normrt::SessionOptions options;
    options.threads = 2;
    normrt::Session session(path, options);
    normrt::NamedTensors inputs;
    for (const normrt::ValueMeta& in : session.inputs()) {
      normrt::Shape shape;
      for (int64_t d : in.shape) shape.push_back(d < 0 ? 2 : d);  // symbolic dims = 2
      normrt::Tensor t(in.dtype, shape);
      for (float& v : t.span<float>()) v = 1.0f;
      inputs.emplace_back(in.name, t);
    }
    for (const auto& [name, t] : session.run(inputs)) {
      std::printf("%s: %s", name.c_str(), normrt::shape_str(t.shape()).c_str());
      auto v = t.span<const float>();
      for (size_t i = 0; i < v.size() && i < 4; ++i) std::printf(" %.5f", v[i]);
      std::printf("\n");
    }
    std::printf("normrt %s, isa %s\n", normrt::version(), session.isa());
  } catch (const normrt::Error& e) {
    std::fprintf(stderr, "error (%s): %s\n", normrt::error_code_name(e.code()), e.what());
    return 1;
  }
  return 0;
}

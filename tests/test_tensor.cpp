// Tensor basics, float16 conversion, and the .npy / .pb tensor files.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void write_bytes(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

}  // namespace

TEST_CASE("tensors are 64-byte aligned, zeroed, reshape shares the buffer") {
  Tensor t(DType::Float32, {3, 5});
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
  CHECK(t.numel() == 15);
  CHECK(t.nbytes() == 60);
  for (int i = 0; i < 15; ++i) CHECK(t.data<float>()[i] == 0.f);
  Tensor r = t.reshaped({15});
  CHECK(r.raw() == t.raw());
  CHECK_THROWS_AS(t.reshaped({4, 4}), Error);
  float buf[6] = {1, 2, 3, 4, 5, 6};
  Tensor v = Tensor::view(buf, DType::Float32, {2, 3});
  CHECK(v.data<float>() == buf);
  CHECK(v.clone().data<float>() != buf);
}

TEST_CASE("shape element counts that overflow are errors, not wraparound") {
  CHECK(error_of([] { shape_numel({int64_t{1} << 40, int64_t{1} << 40}); }).find("too large") != std::string::npos);
  CHECK(error_of([] { shape_numel({2, -3}); }).find("negative dimension") != std::string::npos);
  CHECK(shape_numel({}) == 1);
  CHECK(shape_numel({4, 0, 7}) == 0);
}

TEST_CASE("float16 round trip") {
  for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f}) {
    CHECK(half_to_float(float_to_half(f)) == f);
  }
  CHECK(std::isinf(half_to_float(float_to_half(1e6f))));
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));
  CHECK(float_to_half(1.0f) == 0x3c00);
}

TEST_CASE("npy and pb files round-trip every dtype") {
  auto dir = test::temp_dir("files");
  for (DType dt : {DType::Float32, DType::Float64, DType::Float16, DType::Int8, DType::Int16, DType::Int32,
                   DType::Int64, DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64, DType::Bool}) {
    CAPTURE(dtype_name(dt));
    Tensor t(dt, {2, 3});
    auto* bytes = static_cast<uint8_t*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = dt == DType::Bool ? (i & 1) : static_cast<uint8_t>(i * 7 + 1);
    write_npy((dir / "t.npy").string(), t);
    write_tensor_pb((dir / "t.pb").string(), t, "tname");
    for (auto path : {dir / "t.npy", dir / "t.pb"}) {
      std::string name;
      Tensor r = read_tensor_file(path.string(), &name);
      CHECK(r.dtype() == dt);
      CHECK(r.shape() == Shape{2, 3});
      CHECK(std::memcmp(r.raw(), t.raw(), t.nbytes()) == 0);
      if (path.extension() == ".pb") CHECK(name == "tname");
    }
  }
  Tensor scalar(DType::Float32, {});
  scalar.data<float>()[0] = 4.5f;
  write_npy((dir / "s.npy").string(), scalar);
  Tensor s = read_npy((dir / "s.npy").string());
  CHECK(s.shape().empty());
  CHECK(s.data<float>()[0] == 4.5f);
}

TEST_CASE("bad tensor files get errors naming the file and the problem") {
  auto dir = test::temp_dir("badfiles");
  CHECK(error_of([&] { read_tensor_file((dir / "missing.npy").string()); }).find("does not exist") !=
        std::string::npos);
  write_bytes(dir / "junk.npy", "hello world, not numpy");
  CHECK(error_of([&] { read_npy((dir / "junk.npy").string()); }).find("bad magic") != std::string::npos);
  Tensor t(DType::Float32, {4, 4});
  write_npy((dir / "ok.npy").string(), t);
  std::ifstream f(dir / "ok.npy", std::ios::binary);
  std::string full((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  write_bytes(dir / "short.npy", full.substr(0, full.size() - 5));
  std::string e = error_of([&] { read_npy((dir / "short.npy").string()); });
  CHECK(e.find("short.npy") != std::string::npos);
  CHECK(e.find("needs 64") != std::string::npos);
  std::string fortran = full;
  fortran.replace(fortran.find("False"), 5, "True ");
  write_bytes(dir / "fortran.npy", fortran);
  CHECK(error_of([&] { read_npy((dir / "fortran.npy").string()); }).find("Fortran") != std::string::npos);
  std::string big = full;
  big.replace(big.find("(4, 4)"), 6, "(9999999999, 9999999999)");
  write_bytes(dir / "big.npy", big);
  CHECK(error_of([&] { read_npy((dir / "big.npy").string()); }).find("big.npy") != std::string::npos);
  write_bytes(dir / "junk.pb", std::string("\xff\xff\xff\xff\x0f", 5));
  CHECK(error_of([&] { read_tensor_pb((dir / "junk.pb").string()); }).find("junk.pb") != std::string::npos);
  // A TensorProto whose raw_data is shorter than its shape.
  onnx::TensorProto tp;
  tp.set_data_type(1);
  tp.add_dims(10);
  tp.set_raw_data(std::string(12, '\0'));
  write_bytes(dir / "short.pb", tp.SerializeAsString());
  e = error_of([&] { read_tensor_pb((dir / "short.pb").string()); });
  CHECK(e.find("raw_data has 12 bytes") != std::string::npos);
  CHECK(e.find("needs 40") != std::string::npos);
}

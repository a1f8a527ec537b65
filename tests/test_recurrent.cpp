// LSTM, GRU and RNN through one-node models against the plain double
// reference (ops/recurrent/recurrent_reference.h), over directions, the
// activation list with alpha/beta, clip, sequence_lens (0 and full lengths),
// layout, initial states, peepholes, input_forget, linear_before_reset,
// absent outputs and bias, weights as inputs and as initializers, hidden sizes
// around the vector widths, on every ISA path this CPU runs (results
// identical at 1 and 2 threads); then the hostile attributes and values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/kernel_set.h"
#include "ops/recurrent/recurrent_reference.h"

using namespace normrt;
using namespace normrt::recurrent;
using test::ModelBuilder;

namespace {

const char* const kAllActs[] = {"Sigmoid",         "Tanh",       "Relu", "HardSigmoid", "Affine",  "LeakyRelu",
                                "ThresholdedRelu", "ScaledTanh", "Elu",  "Softsign",    "Softplus"};

struct RnnCase {
  CellKind cell = CellKind::Lstm;
  std::string direction = "forward";
  int64_t seq = 4, batch = 2, input = 5, hidden = 8, layout = 0;
  float clip = 0.f;                  // 0: none
  std::vector<std::string> acts;     // empty: the defaults
  std::vector<float> alphas, betas;  // activation_alpha / _beta
  std::vector<int64_t> lens;         // sequence_lens; empty: absent
  bool bias = true, init_h = false, init_c = false, peep = false, input_forget = false, lbr = false;
  bool y = true, y_h = true, y_c = true;  // outputs present
  bool const_w = false;                   // W, R, B, P initializers (else graph inputs)
};

const char* op_name(CellKind k) { return k == CellKind::Lstm ? "LSTM" : k == CellKind::Gru ? "GRU" : "RNN"; }
int64_t gates_of(CellKind k) { return k == CellKind::Lstm ? 4 : k == CellKind::Gru ? 3 : 1; }

void attr_strings(onnx::NodeProto* n, const std::string& name, const std::vector<std::string>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (auto& s : v) a->add_strings(s);
}
void attr_floats(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float f : v) a->add_floats(f);
}

Tensor scaled_random(const Shape& shape, uint64_t seed, float scale) {
  Tensor t = test::random_tensor(shape, seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] *= scale;
  return t;
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

struct Built {
  std::string path;
  NamedTensors inputs;
  std::vector<std::string> outputs;  // present outputs' names
  RecurrentSpec spec;
  RecurrentTensors<float> ref_in;
  std::vector<Tensor> keep;  // tensors ref_in points into
  std::vector<int64_t> lens;
  Shape y_shape, state_shape;
};

// The model of case rc (saved under tag) and its inputs; the spec for the reference.
Built build(const RnnCase& rc, const std::string& tag, uint64_t seed) {
  Built out;
  const int64_t G = gates_of(rc.cell), H = rc.hidden;
  const int64_t dirs = rc.direction == "bidirectional" ? 2 : 1;
  ModelBuilder m(14);
  const Shape xs = rc.layout == 0 ? Shape{rc.seq, rc.batch, rc.input} : Shape{rc.batch, rc.seq, rc.input};
  const Shape state = rc.layout == 0 ? Shape{dirs, rc.batch, H} : Shape{rc.batch, dirs, H};
  out.state_shape = state;
  out.y_shape = rc.layout == 0 ? Shape{rc.seq, dirs, rc.batch, H} : Shape{rc.batch, rc.seq, dirs, H};
  const Tensor X = scaled_random(xs, seed, 1.f);
  const Tensor W = scaled_random({dirs, G * H, rc.input}, seed + 1, 0.4f);
  const Tensor R = scaled_random({dirs, G * H, H}, seed + 2, 0.4f);
  const Tensor B = scaled_random({dirs, 2 * G * H}, seed + 3, 0.3f);
  const Tensor P = scaled_random({dirs, 3 * H}, seed + 4, 0.3f);
  const Tensor H0 = scaled_random(state, seed + 5, 0.5f);
  const Tensor C0 = scaled_random(state, seed + 6, 0.5f);
  m.input("x", std::vector<int64_t>(xs.begin(), xs.end()));
  out.inputs.push_back({"x", X});
  const auto weight = [&](const std::string& name, const Tensor& t) {
    if (rc.const_w) {
      m.init_f(name, std::vector<int64_t>(t.shape().begin(), t.shape().end()), values(t));
    } else {
      m.input(name, std::vector<int64_t>(t.shape().begin(), t.shape().end()));
      out.inputs.push_back({name, t});
    }
  };
  weight("w", W);
  weight("r", R);
  if (rc.bias) weight("b", B);
  const bool lstm = rc.cell == CellKind::Lstm;
  if (lstm && rc.peep) weight("p", P);
  std::vector<std::string> ins{"x", "w", "r", rc.bias ? "b" : ""};
  Tensor lens_t(DType::Int32, {rc.batch});
  if (!rc.lens.empty()) {
    for (int64_t b = 0; b < rc.batch; ++b) lens_t.data<int32_t>()[b] = static_cast<int32_t>(rc.lens[b]);
    m.input("lens", {rc.batch}, 6);
    out.inputs.push_back({"lens", lens_t});
  }
  ins.push_back(rc.lens.empty() ? "" : "lens");
  if (rc.init_h) {
    m.input("h0", std::vector<int64_t>(state.begin(), state.end()));
    out.inputs.push_back({"h0", H0});
  }
  ins.push_back(rc.init_h ? "h0" : "");
  if (lstm) {
    if (rc.init_c) {
      m.input("c0", std::vector<int64_t>(state.begin(), state.end()));
      out.inputs.push_back({"c0", C0});
    }
    ins.push_back(rc.init_c ? "c0" : "");
    ins.push_back(rc.peep ? "p" : "");
  }
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  std::vector<std::string> outs{rc.y ? "y" : "", rc.y_h ? "yh" : ""};
  if (lstm) outs.push_back(rc.y_c ? "yc" : "");
  while (!outs.empty() && outs.back().empty()) outs.pop_back();
  for (auto& o : outs)
    if (!o.empty()) {
      m.output(o);
      out.outputs.push_back(o);
    }
  auto* n = m.node(op_name(rc.cell), ins, outs);
  ModelBuilder::attr_i(n, "hidden_size", H);
  ModelBuilder::attr_s(n, "direction", rc.direction);
  if (rc.layout) ModelBuilder::attr_i(n, "layout", rc.layout);
  if (rc.clip > 0) ModelBuilder::attr_f(n, "clip", rc.clip);
  if (!rc.acts.empty()) attr_strings(n, "activations", rc.acts);
  if (!rc.alphas.empty()) attr_floats(n, "activation_alpha", rc.alphas);
  if (!rc.betas.empty()) attr_floats(n, "activation_beta", rc.betas);
  if (rc.input_forget) ModelBuilder::attr_i(n, "input_forget", 1);
  if (rc.lbr) ModelBuilder::attr_i(n, "linear_before_reset", 1);
  out.path = m.save(test::temp_dir(tag) / "m.onnx");

  // The reference's view of the same node.
  RecurrentSpec& s = out.spec;
  s.cell = rc.cell;
  s.gates = G;
  s.seq = rc.seq, s.batch = rc.batch, s.input = rc.input, s.hidden = H, s.dirs = dirs;
  s.reverse = rc.direction == "reverse";
  s.layout = rc.layout;
  if (rc.clip > 0) s.clip = rc.clip;
  s.input_forget = rc.input_forget;
  s.linear_before_reset = rc.lbr;
  std::vector<std::string> names = rc.acts;
  if (names.empty())
    for (int64_t d = 0; d < dirs; ++d) {
      if (lstm) names.insert(names.end(), {"Sigmoid", "Tanh", "Tanh"});
      if (rc.cell == CellKind::Gru) names.insert(names.end(), {"Sigmoid", "Tanh"});
      if (rc.cell == CellKind::Rnn) names.push_back("Tanh");
    }
  size_t na = 0, nb = 0;
  for (auto& name : names) {
    Activation a;
    REQUIRE(parse_activation(name, rc.alphas, &na, rc.betas, &nb, &a));
    s.acts.push_back(a);
  }
  out.keep = {X, W, R, B, P, H0, C0};
  RecurrentTensors<float>& t = out.ref_in;
  t.X = out.keep[0].data<float>();
  t.W = out.keep[1].data<float>();
  t.R = out.keep[2].data<float>();
  t.B = rc.bias ? out.keep[3].data<float>() : nullptr;
  t.P = lstm && rc.peep ? out.keep[4].data<float>() : nullptr;
  t.initial_h = rc.init_h ? out.keep[5].data<float>() : nullptr;
  t.initial_c = lstm && rc.init_c ? out.keep[6].data<float>() : nullptr;
  out.lens = rc.lens;
  return out;
}

// Runs case rc on every ISA and compares each present output with the reference.
void check_case(const RnnCase& rc, const std::string& tag, uint64_t seed) {
  Built bt = build(rc, tag, seed);
  std::vector<float> y(static_cast<size_t>(shape_numel(bt.y_shape)), -7.f),
      yh(static_cast<size_t>(shape_numel(bt.state_shape)), -7.f), yc(yh.size(), -7.f);
  RecurrentTensors<float> t = bt.ref_in;
  t.seq_lens = bt.lens.empty() ? nullptr : bt.lens.data();
  t.Y = y.data();
  t.Y_h = yh.data();
  t.Y_c = yc.data();
  recurrent_reference<float>(bt.spec, t);
  const std::vector<float>* want[3] = {&y, &yh, &yc};
  for (const KernelSet* k : available_kernel_sets()) {
    std::vector<NamedTensors> results;
    for (int threads : {1, 2}) {
      SessionOptions o;
      o.threads = threads;
      o.isa = k->isa;
      Session sess(bt.path, o);
      results.push_back(sess.run(bt.inputs));
    }
    REQUIRE(results[0].size() == bt.outputs.size());
    for (size_t i = 0; i < bt.outputs.size(); ++i) {
      const std::string& name = results[0][i].first;
      const Tensor& got = results[0][i].second;
      const size_t which = name == "y" ? 0 : name == "yh" ? 1 : 2;
      INFO(tag << " output " << name << ", isa " << std::string(k->isa));
      CHECK(got.shape() == (which == 0 ? bt.y_shape : bt.state_shape));
      REQUIRE(got.numel() == static_cast<int64_t>(want[which]->size()));
      int bad = 0;
      for (int64_t j = 0; j < got.numel(); ++j) {
        const float g = got.data<float>()[j], e = (*want[which])[static_cast<size_t>(j)];
        if (!(std::fabs(g - e) <= 2e-4f + 1e-3f * std::fabs(e)) && bad++ < 3)
          FAIL_CHECK("element " << j << ": " << g << " vs reference " << e);
      }
      CHECK(bad == 0);
      CHECK(std::memcmp(got.raw(), results[1][i].second.raw(), got.numel() * sizeof(float)) == 0);
    }
  }
}

}  // namespace

TEST_CASE("LSTM, GRU and RNN match the double reference over every variant") {
  const int64_t hiddens[] = {1, 7, 8, 9, 17, 33};
  const char* const directions[] = {"forward", "reverse", "bidirectional"};
  int idx = 0;
  for (CellKind cell : {CellKind::Lstm, CellKind::Gru, CellKind::Rnn})
    for (int64_t hidden : hiddens)
      for (const char* direction : directions) {
        RnnCase rc;
        rc.cell = cell;
        rc.direction = direction;
        rc.hidden = hidden;
        rc.batch = 1 + idx % 3;
        rc.seq = 2 + idx % 4;
        rc.input = idx % 2 ? 16 : 5;
        rc.layout = idx % 2;
        rc.clip = idx % 3 == 0 ? 0.75f : 0.f;
        rc.bias = idx % 5 != 1;
        rc.init_h = idx % 2 == 0;
        rc.init_c = idx % 3 != 2;
        rc.peep = idx % 2 == 1;
        rc.input_forget = idx % 7 == 3;
        rc.lbr = idx % 2 == 0;
        rc.const_w = idx % 4 >= 2;
        rc.y = idx % 6 != 5;
        rc.y_h = idx % 6 != 4;
        rc.y_c = idx % 6 != 3;
        if (idx % 3 == 1) {  // lengths from 0 to seq
          for (int64_t b = 0; b < rc.batch; ++b) rc.lens.push_back((idx + 2 * b + 1) % (rc.seq + 1));
          if (rc.batch > 1) rc.lens[0] = rc.seq;
        }
        if (idx % 2 == 1) {  // a rotation through every activation, with alpha/beta lists a bit short
          const int64_t dirs = rc.direction == std::string("bidirectional") ? 2 : 1;
          const int64_t per_dir = cell == CellKind::Lstm ? 3 : cell == CellKind::Gru ? 2 : 1;
          for (int64_t a = 0; a < dirs * per_dir; ++a) rc.acts.push_back(kAllActs[(idx + a * 5) % 11]);
          rc.alphas = {0.7f, 0.3f, 1.2f};
          rc.betas = {0.4f};
        }
        INFO(op_name(cell) << " " << direction << " hidden " << hidden << " case " << idx);
        check_case(rc, "rnn" + std::to_string(idx), 100 + idx * 10);
        ++idx;
      }
}

TEST_CASE("recurrent activations take alpha and beta in order, with ONNX's defaults") {
  const std::vector<float> alphas{0.5f, 2.f}, betas{0.25f};
  size_t na = 0, nb = 0;
  Activation a;
  REQUIRE(parse_activation("hardsigmoid", alphas, &na, betas, &nb, &a));  // any case
  CHECK(a.kind == ActKind::HardSigmoid);
  CHECK(a.alpha == 0.5f);
  CHECK(a.beta == 0.25f);
  REQUIRE(parse_activation("Tanh", alphas, &na, betas, &nb, &a));  // takes neither
  REQUIRE(parse_activation("ScaledTanh", alphas, &na, betas, &nb, &a));
  CHECK(a.alpha == 2.f);
  CHECK(a.beta == 1.f);  // betas ran out: the default
  REQUIRE(parse_activation("LeakyRelu", alphas, &na, betas, &nb, &a));
  CHECK(a.alpha == doctest::Approx(0.01f));
  CHECK_FALSE(parse_activation("Swish", alphas, &na, betas, &nb, &a));
  // Every activation of the vector path agrees with the double one, clip included.
  const KernelSet& ks = default_kernel_set();
  for (const char* name : kAllActs) {
    size_t i = 0, j = 0;
    REQUIRE(parse_activation(name, {0.6f, 0.6f}, &i, {0.8f}, &j, &a));
    std::vector<float> x(37);
    for (size_t k = 0; k < x.size(); ++k) x[k] = -4.f + 0.23f * static_cast<float>(k);
    const std::vector<float> x0 = x;
    activate(a, *ks.math, x.data(), static_cast<int64_t>(x.size()), 3.f);
    for (size_t k = 0; k < x.size(); ++k) {
      INFO(name << " at " << x0[k]);
      CHECK(x[k] == doctest::Approx(activation_ref(a, std::min(3.f, std::max(-3.f, x0[k])))).epsilon(1e-5).scale(1));
    }
  }
}

TEST_CASE("recurrent float64 runs the reference") {
  ModelBuilder m(14);
  const int64_t H = 3, I = 2, S = 3, Bt = 2;
  m.input("x", {S, Bt, I}, 11).input("w", {2, 4 * H, I}, 11).input("r", {2, 4 * H, H}, 11).output("y", 11);
  auto* n = m.node("LSTM", {"x", "w", "r"}, {"y"});
  ModelBuilder::attr_s(n, "direction", "bidirectional");
  const std::string path = m.save(test::temp_dir("rnn_f64") / "m.onnx");
  const auto f64 = [](const Tensor& f) {
    Tensor d(DType::Float64, f.shape());
    for (int64_t i = 0; i < f.numel(); ++i) d.data<double>()[i] = f.data<float>()[i];
    return d;
  };
  const Tensor X = test::random_tensor({S, Bt, I}, 1), W = test::random_tensor({2, 4 * H, I}, 2),
               R = test::random_tensor({2, 4 * H, H}, 3);
  const Tensor y = Session(path).run({{"x", f64(X)}, {"w", f64(W)}, {"r", f64(R)}})[0].second;
  REQUIRE(y.dtype() == DType::Float64);
  RecurrentSpec s;
  s.seq = S, s.batch = Bt, s.input = I, s.hidden = H, s.dirs = 2;
  size_t na = 0, nb = 0;
  for (int k = 0; k < 2; ++k)
    for (const char* name : {"Sigmoid", "Tanh", "Tanh"}) {
      Activation a;
      parse_activation(name, {}, &na, {}, &nb, &a);
      s.acts.push_back(a);
    }
  std::vector<float> want(static_cast<size_t>(y.numel()));
  RecurrentTensors<float> t;
  t.X = X.data<float>(), t.W = W.data<float>(), t.R = R.data<float>(), t.Y = want.data();
  recurrent_reference<float>(s, t);
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.data<double>()[i] == doctest::Approx(want[i]).epsilon(1e-6));
}

namespace {

// The message of the Error that creating a session for the model, or running
// it, throws ("" when none).
std::string error_of(const ModelBuilder& m, const std::string& tag, const NamedTensors& in) {
  const std::string path = m.save(test::temp_dir(tag) / "m.onnx");
  try {
    Session s(path);
    s.run(in);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("recurrent ops reject hostile attributes and values, naming the node") {
  const int64_t S = 3, Bt = 2, I = 4, H = 5;
  const Tensor X = test::random_tensor({S, Bt, I}, 1);
  struct Bad {
    const char* what;
    const char* op;
    int64_t w_rows, r_rows, r_cols;  // W [1, w_rows, I], R [1, r_rows, r_cols]
    void (*attrs)(onnx::NodeProto*);
    const char* expect;
  };
  const Bad bads[] = {
      {"hidden_size mismatch", "LSTM", 4 * H, 4 * H, H,
       [](onnx::NodeProto* n) { ModelBuilder::attr_i(n, "hidden_size", 6); }, "hidden_size 6 does not match R"},
      {"negative hidden_size", "GRU", 3 * H, 3 * H, H,
       [](onnx::NodeProto* n) { ModelBuilder::attr_i(n, "hidden_size", -5); }, "hidden_size -5 does not match R"},
      {"huge hidden_size", "RNN", H, H, H,
       [](onnx::NodeProto* n) { ModelBuilder::attr_i(n, "hidden_size", int64_t{1} << 62); }, "does not match R"},
      {"W rows for another op", "LSTM", 3 * H, 4 * H, H, [](onnx::NodeProto*) {}, "W is [1,15,4], expected [1,20,4]"},
      {"R rows", "GRU", 3 * H, 4 * H, H, [](onnx::NodeProto*) {}, "R is [1,20,5], expected [1,15,5]"},
      {"zero hidden", "RNN", 0, 0, 0, [](onnx::NodeProto*) {}, "hidden_size must be positive"},
      {"activation count", "LSTM", 4 * H, 4 * H, H,
       [](onnx::NodeProto* n) {
         attr_strings(n, "activations", {"Sigmoid", "Tanh"});
       },
       "needs 3"},
      {"bidirectional with one direction's activations", "GRU", 3 * H, 3 * H, H,
       [](onnx::NodeProto* n) {
         ModelBuilder::attr_s(n, "direction", "forward");
         attr_strings(n, "activations", {"Sigmoid", "Tanh", "Sigmoid", "Tanh"});
       },
       "needs 2"},
      {"unknown activation", "RNN", H, H, H, [](onnx::NodeProto* n) { attr_strings(n, "activations", {"Swish"}); },
       "activation 'Swish' is not one of"},
      {"direction", "LSTM", 4 * H, 4 * H, H,
       [](onnx::NodeProto* n) { ModelBuilder::attr_s(n, "direction", "sideways"); }, "direction 'sideways'"},
      {"layout", "GRU", 3 * H, 3 * H, H, [](onnx::NodeProto* n) { ModelBuilder::attr_i(n, "layout", 2); },
       "layout must be 0 or 1"},
      {"clip", "RNN", H, H, H, [](onnx::NodeProto* n) { ModelBuilder::attr_f(n, "clip", -1.f); },
       "clip must be positive"},
  };
  int k = 0;
  for (const Bad& b : bads) {
    INFO(b.what);
    ModelBuilder m(14);
    m.input("x", {S, Bt, I}).output("y");
    m.init_f("w", {1, b.w_rows, I}, std::vector<float>(static_cast<size_t>(b.w_rows * I), 0.1f));
    m.init_f("r", {1, b.r_rows, b.r_cols}, std::vector<float>(static_cast<size_t>(b.r_rows * b.r_cols), 0.1f));
    auto* n = m.node(b.op, {"x", "w", "r"}, {"y"});
    b.attrs(n);
    const std::string msg = error_of(m, "rnn_bad" + std::to_string(k++), {{"x", X}});
    CHECK(msg.find(std::string(b.op) + "_1") != std::string::npos);
    CHECK(msg.find(b.expect) != std::string::npos);
    if (msg.find(b.expect) == std::string::npos) MESSAGE(msg);
  }
  // sequence_lens outside [0, seq]: an input at run time, a constant at session creation.
  for (int32_t bad : {int32_t{S + 1}, int32_t{-1}}) {
    ModelBuilder m(14);
    m.input("x", {S, Bt, I}).input("lens", {Bt}, 6).output("y");
    m.init_f("w", {1, 4 * H, I}, std::vector<float>(static_cast<size_t>(4 * H * I), 0.1f));
    m.init_f("r", {1, 4 * H, H}, std::vector<float>(static_cast<size_t>(4 * H * H), 0.1f));
    m.node("LSTM", {"x", "w", "r", "", "lens"}, {"y"});
    Tensor lens(DType::Int32, {Bt});
    lens.data<int32_t>()[0] = 1;
    lens.data<int32_t>()[1] = bad;
    const std::string msg = error_of(m, "rnn_lens" + std::to_string(bad), {{"x", X}, {"lens", lens}});
    CHECK(msg.find("LSTM_1") != std::string::npos);
    CHECK(msg.find("sequence_lens[1] = " + std::to_string(bad) + " is outside [0, 3]") != std::string::npos);
  }
  {
    ModelBuilder m(14);
    m.input("x", {S, Bt, I}).output("y");
    m.init_f("w", {1, H, I}, std::vector<float>(static_cast<size_t>(H * I), 0.1f));
    m.init_f("r", {1, H, H}, std::vector<float>(static_cast<size_t>(H * H), 0.1f));
    auto* t = m.g->add_initializer();
    t->set_name("lens");
    t->set_data_type(6);
    t->add_dims(Bt);
    t->add_int32_data(2);
    t->add_int32_data(7);
    m.node("RNN", {"x", "w", "r", "", "lens"}, {"y"});
    const std::string msg = error_of(m, "rnn_lens_const", {{"x", X}});
    CHECK(msg.find("RNN_1") != std::string::npos);
    CHECK(msg.find("sequence_lens[1] = 7") != std::string::npos);
  }
}

TEST_CASE("recurrent ops on an empty sequence give an empty Y and zero Y_h, Y_c") {
  const int64_t Bt = 2, I = 4, H = 5;
  ModelBuilder m(14);
  m.input("x", {0, Bt, I}).output("y").output("yh").output("yc");
  m.init_f("w", {1, 4 * H, I}, std::vector<float>(static_cast<size_t>(4 * H * I), 0.1f));
  m.init_f("r", {1, 4 * H, H}, std::vector<float>(static_cast<size_t>(4 * H * H), 0.1f));
  m.node("LSTM", {"x", "w", "r"}, {"y", "yh", "yc"});
  const std::string path = m.save(test::temp_dir("rnn_empty") / "m.onnx");
  const NamedTensors out = Session(path).run({{"x", Tensor(DType::Float32, {0, Bt, I})}});
  REQUIRE(out.size() == 3);
  CHECK(out[0].second.shape() == Shape{0, 1, Bt, H});
  for (size_t i = 1; i < 3; ++i) {
    CHECK(out[i].second.shape() == Shape{1, Bt, H});
    for (int64_t j = 0; j < out[i].second.numel(); ++j) CHECK(out[i].second.data<float>()[j] == 0.f);
  }
}

TEST_CASE("recurrent ops run at every since-version (opsets 1 to 23)") {
  const int64_t S = 3, Bt = 2, I = 4, H = 5;
  const Tensor X = test::random_tensor({S, Bt, I}, 5);
  for (CellKind cell : {CellKind::Lstm, CellKind::Gru, CellKind::Rnn}) {
    const int64_t G = gates_of(cell);
    std::vector<float> first;
    for (int64_t opset : {1, 3, 7, 14, 22, 23}) {
      INFO(op_name(cell) << " opset " << opset);
      ModelBuilder m(opset);
      m.input("x", {S, Bt, I}).output("yh");
      m.init_f("w", {1, G * H, I}, values(scaled_random({1, G * H, I}, 6, 0.4f)));
      m.init_f("r", {1, G * H, H}, values(scaled_random({1, G * H, H}, 7, 0.4f)));
      ModelBuilder::attr_i(m.node(op_name(cell), {"x", "w", "r"}, {"", "yh"}), "hidden_size", H);
      const std::string path = m.save(test::temp_dir("rnn_opset" + std::to_string(opset)) / "m.onnx");
      const Tensor yh = Session(path).run({{"x", X}})[0].second;
      if (first.empty()) first = values(yh);
      CHECK(values(yh) == first);
    }
  }
}

// The shared part of LSTM, GRU and RNN (recurrent_common.h): attributes and
// shapes, activations, weight preparation and the driver over the sequence.
#include "recurrent_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>

#include "../parallel.h"
#include "../scratch.h"
#include "recurrent_reference.h"

namespace normrt {
namespace recurrent {

namespace {

struct ActName {
  const char* name;
  ActKind kind;
  bool uses_alpha, uses_beta;
  float alpha, beta;  // ONNX's defaults
};

constexpr ActName kActNames[] = {
    {"sigmoid", ActKind::Sigmoid, false, false, 0.f, 0.f},
    {"tanh", ActKind::Tanh, false, false, 0.f, 0.f},
    {"relu", ActKind::Relu, false, false, 0.f, 0.f},
    {"hardsigmoid", ActKind::HardSigmoid, true, true, 0.2f, 0.5f},
    {"affine", ActKind::Affine, true, true, 1.f, 0.f},
    {"leakyrelu", ActKind::LeakyRelu, true, false, 0.01f, 0.f},
    {"thresholdedrelu", ActKind::ThresholdedRelu, true, false, 1.f, 0.f},
    {"scaledtanh", ActKind::ScaledTanh, true, true, 1.f, 1.f},
    {"elu", ActKind::Elu, true, false, 1.f, 0.f},
    {"softsign", ActKind::Softsign, false, false, 0.f, 0.f},
    {"softplus", ActKind::Softplus, false, false, 0.f, 0.f},
};

const char* cell_name(CellKind k) { return k == CellKind::Lstm ? "LSTM" : k == CellKind::Gru ? "GRU" : "RNN"; }

const Tensor* input_at(const KernelIO& io, size_t i) { return i < io.in.size() ? io.in[i] : nullptr; }
Tensor* output_at(const KernelIO& io, size_t i) { return i < io.out.size() ? io.out[i] : nullptr; }

}  // namespace

bool parse_activation(const std::string& name, const std::vector<float>& alphas, size_t* next_alpha,
                      const std::vector<float>& betas, size_t* next_beta, Activation* out) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const ActName& a : kActNames) {
    if (lower != a.name) continue;
    out->kind = a.kind;
    out->alpha = a.alpha;
    out->beta = a.beta;
    if (a.uses_alpha && *next_alpha < alphas.size()) out->alpha = alphas[(*next_alpha)++];
    if (a.uses_beta && *next_beta < betas.size()) out->beta = betas[(*next_beta)++];
    return true;
  }
  return false;
}

double activation_ref(const Activation& a, double x) {
  const double al = a.alpha, be = a.beta;
  switch (a.kind) {
    case ActKind::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case ActKind::Tanh:
      return std::tanh(x);
    case ActKind::Relu:
      return x > 0 ? x : 0.0;
    case ActKind::HardSigmoid:
      return std::min(1.0, std::max(0.0, al * x + be));
    case ActKind::Affine:
      return al * x + be;
    case ActKind::LeakyRelu:
      return x >= 0 ? x : al * x;
    case ActKind::ThresholdedRelu:
      return x > al ? x : 0.0;
    case ActKind::ScaledTanh:
      return al * std::tanh(be * x);
    case ActKind::Elu:
      return x >= 0 ? x : al * (std::exp(x) - 1.0);
    case ActKind::Softsign:
      return x / (1.0 + std::fabs(x));
    case ActKind::Softplus:
      return x > 30 ? x : std::log1p(std::exp(x));
  }
  return x;
}

void activate(const Activation& a, const VectorMath& vm, float* x, int64_t n, float clip) {
  const size_t un = static_cast<size_t>(n);
  if (clip < __builtin_inff())
    for (int64_t i = 0; i < n; ++i) {  // NaN stays NaN
      const float v = x[i];
      x[i] = v < -clip ? -clip : v > clip ? clip : v;
    }
  const float al = a.alpha, be = a.beta;
  switch (a.kind) {
    case ActKind::Sigmoid:
      vm.sigmoid(x, x, un);
      return;
    case ActKind::Tanh:
      vm.tanh(x, x, un);
      return;
    case ActKind::Relu:
      vm.relu(x, x, un);
      return;
    case ActKind::ScaledTanh:
      for (int64_t i = 0; i < n; ++i) x[i] *= be;
      vm.tanh(x, x, un);
      for (int64_t i = 0; i < n; ++i) x[i] *= al;
      return;
    case ActKind::HardSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = std::min(1.f, std::max(0.f, al * x[i] + be));
      return;
    case ActKind::Affine:
      for (int64_t i = 0; i < n; ++i) x[i] = al * x[i] + be;
      return;
    case ActKind::LeakyRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : al * x[i];
      return;
    case ActKind::ThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > al ? x[i] : 0.f;
      return;
    case ActKind::Elu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : al * std::expm1(x[i]);
      return;
    case ActKind::Softsign:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.f + std::fabs(x[i]));
      return;
    case ActKind::Softplus:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 30.f ? x[i] : std::log1p(std::exp(x[i]));
      return;
  }
}

RecurrentSpec plan_spec(PlanCtx& c, CellKind cell) {
  RecurrentSpec s;
  s.cell = cell;
  s.gates = cell == CellKind::Lstm ? 4 : cell == CellKind::Gru ? 3 : 1;
  const bool lstm = cell == CellKind::Lstm;
  c.require_inputs(3, lstm ? 8 : 6);
  if (c.out.size() > (lstm ? 3u : 2u)) c.fail("has more outputs than " + std::string(cell_name(cell)) + " defines");
  c.require_dtype(kX, {DType::Float32, DType::Float64});
  const DType dt = c.input(kX).dtype;
  for (size_t i : {kW, kR, kB, kInitialH, kInitialC, kP})
    if (c.has_input(i) && c.input(i).dtype != dt)
      c.fail("input " + std::to_string(i) + " has dtype " + dtype_name(c.input(i).dtype) + ", X has " + dtype_name(dt));
  const Node& n = c.node;
  s.layout = c.version >= 14 ? n.attr_int("layout", 0) : 0;
  if (s.layout != 0 && s.layout != 1) c.fail("layout must be 0 or 1, not " + std::to_string(s.layout));
  const std::string direction = n.attr_string("direction", "forward");
  if (direction == "bidirectional")
    s.dirs = 2;
  else if (direction == "reverse")
    s.reverse = true;
  else if (direction != "forward")
    c.fail("direction '" + direction + "' is not forward, reverse or bidirectional");

  const Shape& xs = c.input(kX).shape;
  if (xs.size() != 3) c.fail("X must be 3-D, not " + shape_str(xs));
  s.seq = s.layout == 0 ? xs[0] : xs[1];
  s.batch = s.layout == 0 ? xs[1] : xs[0];
  s.input = xs[2];
  const Shape& ws = c.input(kW).shape;
  const Shape& rs = c.input(kR).shape;
  if (rs.size() != 3) c.fail("R must be 3-D, not " + shape_str(rs));
  s.hidden = rs[2];
  if (n.has_attr("hidden_size")) {
    const int64_t hs = n.attr_int("hidden_size", 0);
    if (hs != s.hidden)
      c.fail("hidden_size " + std::to_string(hs) + " does not match R " + shape_str(rs) + " (last dim)");
  }
  if (s.hidden <= 0) c.fail("hidden_size must be positive (R is " + shape_str(rs) + ")");
  const int64_t gh = checked_mul(c, s.gates, s.hidden, "gates · hidden_size");
  const Shape w_want{s.dirs, gh, s.input}, r_want{s.dirs, gh, s.hidden};
  if (ws != w_want)
    c.fail("W is " + shape_str(ws) + ", expected " + shape_str(w_want) + " (directions, " + std::to_string(s.gates) +
           "·hidden_size, input_size)");
  if (rs != r_want) c.fail("R is " + shape_str(rs) + ", expected " + shape_str(r_want));
  const Shape b_want{s.dirs, checked_mul(c, 2, gh, "B size")};
  if (c.has_input(kB) && c.input(kB).shape != b_want)
    c.fail("B is " + shape_str(c.input(kB).shape) + ", expected " + shape_str(b_want));
  const Shape state = s.layout == 0 ? Shape{s.dirs, s.batch, s.hidden} : Shape{s.batch, s.dirs, s.hidden};
  if (c.has_input(kInitialH) && c.input(kInitialH).shape != state)
    c.fail("initial_h is " + shape_str(c.input(kInitialH).shape) + ", expected " + shape_str(state));
  if (lstm && c.has_input(kInitialC) && c.input(kInitialC).shape != state)
    c.fail("initial_c is " + shape_str(c.input(kInitialC).shape) + ", expected " + shape_str(state));
  if (lstm && c.has_input(kP) && c.input(kP).shape != Shape{s.dirs, 3 * s.hidden})
    c.fail("P is " + shape_str(c.input(kP).shape) + ", expected " + shape_str({s.dirs, 3 * s.hidden}));
  if (c.has_input(kSeqLens)) {
    const ValueDesc& sl = c.input(kSeqLens);
    if (sl.dtype != DType::Int32 && sl.dtype != DType::Int64)
      c.fail(std::string("sequence_lens must be int32, not ") + dtype_name(sl.dtype));
    if (sl.shape != Shape{s.batch})
      c.fail("sequence_lens is " + shape_str(sl.shape) + ", expected [" + std::to_string(s.batch) + "]");
    if (sl.value) {
      try {
        std::vector<int64_t> lens(static_cast<size_t>(s.batch));
        sequence_lengths(s, sl.value, n.where(), lens.data());
      } catch (const Error& e) {
        throw Error(ErrorCode::InvalidModel, e.what());
      }
    }
  }

  // Activations: per direction, each with its alpha/beta.
  const size_t want = static_cast<size_t>(s.acts_per_dir() * s.dirs);
  std::vector<std::string> names;
  if (n.has_attr("activations")) {
    names = n.attr("activations").strings;
    if (names.size() != want)
      c.fail("activations lists " + std::to_string(names.size()) + " functions; " + cell_name(cell) + " with " +
             std::to_string(s.dirs) + " direction(s) needs " + std::to_string(want));
  } else {
    const std::vector<std::string> per_dir = cell == CellKind::Lstm
                                                 ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                             : cell == CellKind::Gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                     : std::vector<std::string>{"Tanh"};
    for (int64_t d = 0; d < s.dirs; ++d) names.insert(names.end(), per_dir.begin(), per_dir.end());
  }
  const std::vector<float> alphas =
      n.has_attr("activation_alpha") ? n.attr("activation_alpha").floats : std::vector<float>{};
  const std::vector<float> betas =
      n.has_attr("activation_beta") ? n.attr("activation_beta").floats : std::vector<float>{};
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    Activation a;
    if (!parse_activation(name, alphas, &next_alpha, betas, &next_beta, &a))
      c.fail("activation '" + name +
             "' is not one of Sigmoid, Tanh, Relu, HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu, "
             "Softsign, Softplus");
    s.acts.push_back(a);
  }
  if (n.has_attr("clip")) {
    s.clip = n.attr_float("clip", 0.f);
    if (!(s.clip > 0.f)) c.fail("clip must be positive, not " + std::to_string(s.clip));
  }
  if (lstm) {
    const int64_t f = n.attr_int("input_forget", 0);
    if (f != 0 && f != 1) c.fail("input_forget must be 0 or 1, not " + std::to_string(f));
    s.input_forget = f == 1;
  }
  if (cell == CellKind::Gru) s.linear_before_reset = n.attr_int("linear_before_reset", 0) != 0;

  // Outputs, and the size of the projection buffer (seq·batch·dirs·G·hidden).
  checked_mul(c, checked_mul(c, checked_mul(c, s.seq, s.batch, "seq · batch"), s.dirs, "sequence size"), gh,
              "projection size");
  if (c.has_output(0))
    c.set_output(0, dt,
                 s.layout == 0 ? Shape{s.seq, s.dirs, s.batch, s.hidden} : Shape{s.batch, s.seq, s.dirs, s.hidden});
  if (c.has_output(1)) c.set_output(1, dt, state);
  if (lstm && c.has_output(2)) c.set_output(2, dt, state);
  return s;
}

void sequence_lengths(const RecurrentSpec& s, const Tensor* seq_lens, const std::string& where, int64_t* lens) {
  std::fill(lens, lens + s.batch, s.seq);
  if (!seq_lens) return;
  if (seq_lens->numel() != s.batch)
    throw Error(ErrorCode::InvalidArgument, where + ": sequence_lens holds " + std::to_string(seq_lens->numel()) +
                                                " values for batch " + std::to_string(s.batch));
  for (int64_t b = 0; b < s.batch; ++b) {
    const int64_t v =
        seq_lens->dtype() == DType::Int64 ? seq_lens->data<int64_t>()[b] : int64_t{seq_lens->data<int32_t>()[b]};
    if (v < 0 || v > s.seq)
      throw Error(ErrorCode::InvalidArgument, where + ": sequence_lens[" + std::to_string(b) +
                                                  "] = " + std::to_string(v) + " is outside [0, " +
                                                  std::to_string(s.seq) + "] (seq_length)");
    lens[b] = v;
  }
}

RecurrentWeights prepare_weights(const RecurrentSpec& s, const KernelSet& ks, const float* W, const float* R,
                                 const float* B, const float* P) {
  const int64_t H = s.hidden, GH = s.gates * H, I = s.input;
  const linalg::GemmKernels& k = *ks.gemm;
  const bool split_h = s.cell == CellKind::Gru && !s.linear_before_reset;
  const bool rb_apart = s.cell == CellKind::Gru && s.linear_before_reset;
  RecurrentWeights w;
  if (I > 0) w.w = linalg::pack_b(k, true, I, s.dirs * GH, W, I);
  for (int64_t d = 0; d < s.dirs; ++d) {
    const float* Rd = R + d * GH * H;
    if (split_h) {
      w.r.push_back(linalg::pack_b(k, true, H, 2 * H, Rd, H));
      w.rh.push_back(linalg::pack_b(k, true, H, H, Rd + 2 * H * H, H));
    } else {
      w.r.push_back(linalg::pack_b(k, true, H, GH, Rd, H));
    }
  }
  w.bias.assign(static_cast<size_t>(s.dirs * GH), 0.f);
  if (rb_apart) w.rbias_h.assign(static_cast<size_t>(s.dirs * H), 0.f);
  if (B)
    for (int64_t d = 0; d < s.dirs; ++d)
      for (int64_t j = 0; j < GH; ++j) {
        const float wb = B[d * 2 * GH + j], rb = B[d * 2 * GH + GH + j];
        const bool apart = rb_apart && j >= 2 * H;
        w.bias[static_cast<size_t>(d * GH + j)] = apart ? wb : wb + rb;
        if (apart) w.rbias_h[static_cast<size_t>(d * H + j - 2 * H)] = rb;
      }
  if (P) w.peep.assign(P, P + s.dirs * 3 * H);
  return w;
}

void run_recurrent(const RecurrentSpec& s, const RecurrentWeights* wts_const, StepFn step, const std::string& where,
                   const KernelSet& ks, KernelIO& io) {
  const int64_t H = s.hidden, GH = s.gates * H, I = s.input, ldx = s.dirs * GH;
  const Tensor* b_in = input_at(io, kB);
  const Tensor* p_in = s.cell == CellKind::Lstm ? input_at(io, kP) : nullptr;
  RecurrentWeights local;
  const RecurrentWeights* w = wts_const;
  if (!w) {
    local = prepare_weights(s, ks, io.in[kW]->data<float>(), io.in[kR]->data<float>(),
                            b_in ? b_in->data<float>() : nullptr, p_in ? p_in->data<float>() : nullptr);
    w = &local;
  }
  Scratch<int64_t> lens(static_cast<size_t>(s.batch));
  sequence_lengths(s, input_at(io, kSeqLens), where, lens.data());
  const Tensor* h0 = input_at(io, kInitialH);
  const Tensor* c0 = s.cell == CellKind::Lstm ? input_at(io, kInitialC) : nullptr;
  Tensor* y_t = output_at(io, 0);
  Tensor* yh_t = output_at(io, 1);
  Tensor* yc_t = s.cell == CellKind::Lstm ? output_at(io, 2) : nullptr;
  float* Y = y_t ? y_t->data<float>() : nullptr;

  // XW = X·Wᵀ + bias for every timestep and direction in one product.
  const int64_t rows = s.seq * s.batch;
  Scratch<float> xw(static_cast<size_t>(rows * ldx));
  if (I > 0) {
    linalg::Epilogue ep;
    ep.bias = w->bias.data();
    linalg::sgemm_packed(ks.gemm_for(rows), false, rows, 1.f, io.in[kX]->data<float>(), I, w->w, 0.f, xw.data(), ldx,
                         ep);
  } else {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(xw.data() + r * ldx, w->bias.data(), sizeof(float) * ldx);
  }
  const int64_t max_len = s.batch == 0 ? 0 : *std::max_element(lens.data(), lens.data() + s.batch);
  if (Y && std::any_of(lens.data(), lens.data() + s.batch, [&](int64_t l) { return l < s.seq; }))
    std::memset(Y, 0, sizeof(float) * static_cast<size_t>(y_t->numel()));

  parallel_rows(s.dirs, work_mul(work_mul(max_len * s.batch, GH), H), [&](int64_t d0, int64_t d1) {
    for (int64_t d = d0; d < d1; ++d) {
      const bool backward = s.reverse || d == 1;
      const bool has_c = s.cell == CellKind::Lstm;
      Scratch<float> state(static_cast<size_t>(s.batch * H * (has_c ? 2 : 1)));
      Scratch<float> work(static_cast<size_t>(s.batch * (s.gates + 2) * H));
      Scratch<const float*> xwp(static_cast<size_t>(s.batch));
      float* Hs = state.data();
      float* Cs = has_c ? Hs + s.batch * H : nullptr;
      for (int64_t b = 0; b < s.batch; ++b) {
        const int64_t so = s.state_offset(d, b);
        for (int64_t j = 0; j < H; ++j) {
          Hs[b * H + j] = h0 ? h0->data<float>()[so + j] : 0.f;
          if (Cs) Cs[b * H + j] = c0 ? c0->data<float>()[so + j] : 0.f;
        }
      }
      const StepArgs args{s, *w, ks, d, xwp.data(), Hs, Cs, work.data()};
      for (int64_t t = 0; t < max_len; ++t) {
        for (int64_t b = 0; b < s.batch; ++b) {
          const int64_t len = lens.data()[b];
          const int64_t tt = backward ? len - 1 - t : t;
          xwp.data()[b] = t < len ? xw.data() + s.x_row(tt, b) * ldx + d * GH : nullptr;
        }
        step(args);
        if (Y)
          for (int64_t b = 0; b < s.batch; ++b) {
            const int64_t len = lens.data()[b];
            if (t < len) std::memcpy(Y + s.y_offset(backward ? len - 1 - t : t, d, b), Hs + b * H, sizeof(float) * H);
          }
      }
      for (int64_t b = 0; b < s.batch; ++b) {
        const int64_t so = s.state_offset(d, b);
        const bool ran = lens.data()[b] > 0;
        for (int64_t j = 0; j < H; ++j) {
          if (yh_t) yh_t->data<float>()[so + j] = ran ? Hs[b * H + j] : 0.f;
          if (yc_t) yc_t->data<float>()[so + j] = ran ? Cs[b * H + j] : 0.f;
        }
      }
    }
  });
}

void plan_recurrent(PlanCtx& c, CellKind cell, StepFn step) {
  const RecurrentSpec s = plan_spec(c, cell);
  const std::string where = c.node.where();
  const bool lstm = cell == CellKind::Lstm;
  if (c.input(kX).dtype == DType::Float64) {
    c.detail = "reference (float64)";
    c.kernel = [s, where](KernelIO& io) {
      const auto f64 = [&](size_t i) -> const double* {
        const Tensor* t = input_at(io, i);
        return t ? t->data<double>() : nullptr;
      };
      std::vector<int64_t> lens(static_cast<size_t>(s.batch));
      sequence_lengths(s, input_at(io, kSeqLens), where, lens.data());
      RecurrentTensors<double> t;
      t.X = f64(kX);
      t.W = f64(kW);
      t.R = f64(kR);
      t.B = f64(kB);
      t.seq_lens = lens.data();
      t.initial_h = f64(kInitialH);
      if (s.cell == CellKind::Lstm) {
        t.initial_c = f64(kInitialC);
        t.P = f64(kP);
      }
      Tensor* y = output_at(io, 0);
      Tensor* yh = output_at(io, 1);
      Tensor* yc = s.cell == CellKind::Lstm ? output_at(io, 2) : nullptr;
      t.Y = y ? y->data<double>() : nullptr;
      t.Y_h = yh ? yh->data<double>() : nullptr;
      t.Y_c = yc ? yc->data<double>() : nullptr;
      recurrent_reference<double>(s, t);
    };
    return;
  }
  const KernelSet& ks = *c.kernels;
  const bool consts = c.input(kW).value && c.input(kR).value && (!c.has_input(kB) || c.input(kB).value) &&
                      (!lstm || !c.has_input(kP) || c.input(kP).value);
  std::shared_ptr<const RecurrentWeights> wts;
  if (consts) {
    const auto data = [&](size_t i) { return c.has_input(i) ? c.input(i).value->data<float>() : nullptr; };
    wts = std::make_shared<const RecurrentWeights>(
        prepare_weights(s, ks, data(kW), data(kR), data(kB), lstm ? data(kP) : nullptr));
  }
  c.detail = consts ? "W, R packed at session creation" : "W, R packed per run";
  c.kernel = [s, wts, step, where, &ks](KernelIO& io) { run_recurrent(s, wts.get(), step, where, ks, io); };
}

}  // namespace recurrent
}  // namespace normrt

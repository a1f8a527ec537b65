// What LSTM, GRU and RNN share: the node's attributes and shapes checked into
// a RecurrentSpec, the activation functions, the weights prepared for the
// packed GEMM (once at session creation when W, R, B, P are constants), and
// the driver that runs a cell over the sequence.
//
// The driver's passes over memory: one GEMM projects every timestep of X for
// every direction at once (XW = X·Wᵀ + bias, [seq·batch, dirs·G·hidden]); then
// per direction and step a GEMM of the state H[batch, hidden] by Rᵀ (packed),
// and the cell's gate pass over the batch rows that are still inside their
// sequence (sequence_lens); each row's new H goes to Y, the last one to Y_h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernel_set.h"
#include "../linalg/gemm.h"
#include "../op.h"

namespace normrt {
namespace recurrent {

enum class CellKind { Lstm, Gru, Rnn };

enum class ActKind {
  Sigmoid,
  Tanh,
  Relu,
  HardSigmoid,
  Affine,
  LeakyRelu,
  ThresholdedRelu,
  ScaledTanh,
  Elu,
  Softsign,
  Softplus
};

struct Activation {
  ActKind kind = ActKind::Sigmoid;
  float alpha = 0.f, beta = 0.f;
};

// The activation named `name` (ONNX's names, any case) with its alpha/beta
// taken from the lists in order (each list is consumed only by the functions
// that use it; a list that runs out gives ONNX's defaults). False when the
// name is unknown.
bool parse_activation(const std::string& name, const std::vector<float>& alphas, size_t* next_alpha,
                      const std::vector<float>& betas, size_t* next_beta, Activation* out);
// f(x) in double: the reference the vector path is checked against.
double activation_ref(const Activation& a, double x);
// x[i] = f(clamp(x[i], -clip, clip)) for i < n, in place (clip = +inf: none);
// Sigmoid and Tanh through the session's vector math.
void activate(const Activation& a, const VectorMath& vm, float* x, int64_t n, float clip);

struct RecurrentSpec {
  CellKind cell = CellKind::Lstm;
  int64_t gates = 4;  // rows of W per direction, in units of hidden: 4 (iofc), 3 (zrh), 1
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1;
  bool reverse = false;  // direction == "reverse" (dirs == 1)
  int64_t layout = 0;    // 0: X [seq, batch, input]; 1: X [batch, seq, input]
  float clip = __builtin_inff();
  std::vector<Activation> acts;      // per direction: LSTM f, g, h; GRU f, g; RNN f
  bool input_forget = false;         // LSTM: f = 1 − i
  bool linear_before_reset = false;  // GRU
  int64_t acts_per_dir() const { return cell == CellKind::Lstm ? 3 : cell == CellKind::Gru ? 2 : 1; }
  // Row of X (and of the projection) holding timestep t of batch entry b.
  int64_t x_row(int64_t t, int64_t b) const { return layout == 0 ? t * batch + b : b * seq + t; }
  // Offset in Y of (t, direction d, b)'s hidden values.
  int64_t y_offset(int64_t t, int64_t d, int64_t b) const {
    return (layout == 0 ? (t * dirs + d) * batch + b : (b * seq + t) * dirs + d) * hidden;
  }
  // Offset in initial_h / Y_h (and _c) of (direction d, b).
  int64_t state_offset(int64_t d, int64_t b) const { return (layout == 0 ? d * batch + b : b * dirs + d) * hidden; }
};

// Input and output positions shared by the three ops.
enum : size_t { kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6, kP = 7 };

// Reads the attributes, checks every input's dtype and shape against them and
// sets the outputs' shapes; fails naming the node on anything inconsistent.
RecurrentSpec plan_spec(PlanCtx& c, CellKind cell);

// The sequence lengths into lens[batch] (all seq when absent), each checked to
// lie in [0, seq]; throws Error(InvalidArgument) naming `where` otherwise.
void sequence_lengths(const RecurrentSpec& s, const Tensor* seq_lens, const std::string& where, int64_t* lens);

// W, R, B, P in the layouts the fast path reads.
struct RecurrentWeights {
  linalg::PackedB w;                // Wᵀ of all directions: [input, dirs·G·hidden]
  std::vector<linalg::PackedB> r;   // per direction, R_dᵀ [hidden, G·hidden] (GRU without
                                    // linear_before_reset: the z, r rows only, [hidden, 2·hidden])
  std::vector<linalg::PackedB> rh;  // GRU without linear_before_reset: R_hᵀ per direction
  std::vector<float> bias;          // dirs·G·hidden added to the projection: Wb + Rb (GRU
                                    // with linear_before_reset: Wb alone for h)
  std::vector<float> rbias_h;       // GRU with linear_before_reset: Rbh, dirs·hidden
  std::vector<float> peep;          // LSTM: P, dirs·3·hidden, or empty
};
RecurrentWeights prepare_weights(const RecurrentSpec& s, const KernelSet& ks, const float* W, const float* R,
                                 const float* B, const float* P);

// One step of the cell for direction d: H (and C) [batch, hidden] hold the
// state; rows with xw[b] == nullptr are past their sequence and stay as they
// are; the others read their projection xw[b] (G·hidden values) and take the
// new state. work holds batch·(G + 2)·hidden floats.
struct StepArgs {
  const RecurrentSpec& spec;
  const RecurrentWeights& wts;
  const KernelSet& ks;
  int64_t d;
  const float* const* xw;
  float* H;
  float* C;
  float* work;
};
using StepFn = void (*)(const StepArgs&);

// Runs the float32 op: inputs and outputs in the node's order (absent: nullptr).
// wts_const: the weights prepared at planning time, or nullptr to prepare them
// from the inputs now.
void run_recurrent(const RecurrentSpec& s, const RecurrentWeights* wts_const, StepFn step, const std::string& where,
                   const KernelSet& ks, KernelIO& io);

// The plan shared by the three ops: the spec, float32 on the fast path with
// the given step, float64 on the reference.
void plan_recurrent(PlanCtx& c, CellKind cell, StepFn step);

}  // namespace recurrent
}  // namespace normrt

// Times ONNX Runtime's session.run on one model test folder, for the latency
// table in bench/README.md (ORT is a measurement peer only, never a dependency).
//   node bench/ort_latency.js MODEL_DIR THREADS ITERATIONS
// Inputs come from MODEL_DIR/test_data_set_0 via bench/pb_to_raw.py (run by
// bench/compare_ort.sh). Prints the minimum, p10, median and p90 latency in ms. ORT_WARMUP_MS
// (default 1000) and ORT_DURATION_MS (default 3000) set the warm-up and timed spans.
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, threads, iters] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 200)];
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'raw_inputs.json')));
  const feeds = {};
  for (const m of manifest) {
    const buf = fs.readFileSync(m.file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const data = m.type === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab);
    feeds[m.name] = new ort.Tensor(m.type, data, m.dims);
  }
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential'});
  const t0 = Date.now();
  const warmupMs = Number(process.env.ORT_WARMUP_MS || 1000), durationMs = Number(process.env.ORT_DURATION_MS || 3000);
  while (Date.now() - t0 < warmupMs) await session.run(feeds);  // warm-up
  const times = [];
  const start = Date.now();
  for (let i = 0; i < iters || Date.now() - start < durationMs; ++i) {
    const s = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(JSON.stringify({min_ms: times[0], p10_ms: q(0.1), median_ms: q(0.5), p90_ms: q(0.9), runs: times.length}));
}
main().catch((e) => { console.error(e.message); process.exit(1); });

// Runs ONNX Runtime once on DIR/model.onnx with the raw inputs that
// bench/pb_to_raw.py wrote (DIR/raw_inputs.json) and writes every output as
// DIR/ort_output_N.bin (float32) plus DIR/ort_outputs.json (name, dims, file).
// Used by bench/check_quantized_ort.py; ORT is a measurement peer only.
//   node bench/ort_outputs.js DIR [optimization: disabled|basic|extended|all]
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function main() {
  const dir = process.argv[2], level = process.argv[3] || 'all';
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'raw_inputs.json')));
  const feeds = {};
  for (const m of manifest) {
    const buf = fs.readFileSync(m.file);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    feeds[m.name] = new ort.Tensor(m.type, m.type === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab), m.dims);
  }
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
                                                    {intraOpNumThreads: 1, graphOptimizationLevel: level});
  const out = await session.run(feeds);
  const written = [];
  session.outputNames.forEach((name, k) => {
    const file = path.join(dir, `ort_output_${k}.bin`);
    fs.writeFileSync(file, Buffer.from(out[name].data.buffer, out[name].data.byteOffset, out[name].data.byteLength));
    written.push({name, dims: out[name].dims, file});
  });
  fs.writeFileSync(path.join(dir, 'ort_outputs.json'), JSON.stringify(written));
}
main().catch((e) => { console.error(e.message); process.exit(1); });

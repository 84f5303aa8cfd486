// Writes sample.txt: "<IEEE-754 bits as 16 hex digits> <ECMAScript String(x)>" per line.
// Deterministic (xorshift64* with a fixed seed); run with `node generate.js > sample.txt`.
let s = 0x9E3779B97F4A7C15n;
const M = (1n << 64n) - 1n;
function next() {
  s ^= s >> 12n; s ^= (s << 25n) & M; s ^= s >> 27n;
  return (s * 0x2545F4914F6CDD1Dn) & M;
}
const buf = new DataView(new ArrayBuffer(8));
function bits(x) { buf.setFloat64(0, x); return buf.getBigUint64(0).toString(16).padStart(16, "0"); }
const out = [];
function add(x) { if (Number.isFinite(x)) out.push(bits(x) + " " + String(x)); }
for (let i = 0; i < 2000; i++) {           // uniformly random bit patterns
  buf.setBigUint64(0, next()); add(buf.getFloat64(0));
}
for (let i = 0; i < 1000; i++) {           // decimals of a few digits at every scale
  const digits = Number(next() % 1000000n);
  const exp = Number(next() % 60n) - 30;
  add(Number(digits + "e" + exp));
}
for (let i = 0; i < 500; i++) {            // integers around 2^53 and powers of ten
  add(Number(next() >> 10n));
  add(10 ** (Number(next() % 40n) - 10));
}
for (let e = -330; e <= 310; e++) add(Number("1e" + e));
process.stdout.write(out.join("\n") + "\n");

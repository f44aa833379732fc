// What the DEFAULT CPU recording (recordCpuProfile with no sampler asked for: the eBPF sampler,
// bpf/go_cpu_profile.c, where BCC runs) costs its target beside `perf record -g` alone: the example
// service's requests/s under the load generator at 999 Hz with no profiler, with
// `perf record -F 999 -g --call-graph fp`, and with the default recording (rounds alternate, so
// drift in the machine hits all three alike; medians); each one's output size (perf.data; the
// default's session file, what `go-perf-lens record` writes) and its share of samples whose
// caller is unknown (our ingest of each). The default recording is made as the editor makes it,
// with the profile so far handed over each second (live heat). Needs root, perf and BCC.
// Usage: node scripts/bench/bpfprofile.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const out = (p) => path.join(root, 'out', p);
const quick = process.argv.includes('--quick');
const secs = quick ? 4 : 8;
const rounds = quick ? 1 : 3;
const FREQ = 999;

const { buildGoFixture, newestGo } = require(out('test/support/goToolchains.js'));
const { buildGoPackage } = require(out('test/support/profileTargets.js'));
const { recordCpuProfile } = require(out('src/commands/recordCpuProfile.js'));
const { makeSession, serializeSession } = require(out('src/model/session.js'));
const { unknownCallerShare } = require(out('src/model/stacksText.js'));
const { parsePerfData } = require(out('src/formats/perfData.js'));
const { ingestPerfData } = require(out('src/ingest/fromPerfData.js'));
const { loadBinary } = require(out('src/ingest/loadBinary.js'));
const tc = newestGo();
const svcBin = buildGoFixture('exampleservice', tc);
const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bench-bpfprofile-'));

async function startService() {
  const proc = spawn(svcBin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (c) => reject(new Error(`service exited ${c}`)));
  });
  return { proc, url: `http://${addr}` };
}

function runLoad(url, seconds) {
  const r = spawnSync(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

function runLoadAsync(url, seconds) {
  const p = spawn(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let s = '';
  p.stdout.on('data', (d) => {
    s += d;
  });
  return new Promise((r, j) => p.on('exit', (c) => (c === 0 ? r(JSON.parse(s.trim())) : j(new Error(`load exited ${c}`)))));
}

/**
 * The default recording of pid as the editor makes it (the profile so far handed over each
 * second: live heat); the load runs from the moment its sampler has attached.
 */
async function defaultRound(pid, url) {
  let attached;
  const isAttached = new Promise((r) => {
    attached = r;
  });
  // The sampler's own cost while it records: the helper's CPU time (read from /proc every 100 ms,
  // from the attach to its last read before it exits) per second of that window; and this
  // process's (the host and its ingest worker) from the attach to the profile, per recorded second.
  let helperPid;
  let helperTicks = [];
  const readHelper = () => {
    const t = helperPid && cpuTicks(helperPid);
    if (t !== undefined) helperTicks.push({ t, at: Date.now() });
  };
  const poll = setInterval(readHelper, 100);
  let clientAtAttach;
  const rec = recordCpuProfile(
    { kind: 'local' },
    { pid, durationSec: secs + 1, freqHz: FREQ, event: 'auto' },
    {
      onStart: (client) => (helperPid = client.pid),
      onProgress: (m) => {
        if (m.phase !== 'attached' && typeof m.perfPid !== 'number') return;
        helperTicks = [];
        readHelper();
        clientAtAttach = process.cpuUsage();
        attached();
      },
      onPartial: () => liveProfiles++,
    },
  );
  rec.catch(() => attached());
  await isAttached;
  const load = await runLoadAsync(url, secs);
  const profile = await rec;
  clearInterval(poll);
  const recordedSec = profile.durationNanos / 1e9;
  const client = process.cpuUsage(clientAtAttach);
  const [h0, h1] = [helperTicks[0], helperTicks.at(-1)];
  const helperMsPerSec = helperTicks.length > 1 ? ((h1.t - h0.t) * 1000) / CLK_TCK / ((h1.at - h0.at) / 1000) : NaN;
  return {
    rps: load.rps,
    profile,
    bytes: Buffer.byteLength(serializeSession(makeSession(profile, 'bench'))),
    helperMsPerSec,
    clientMsPerSec: (client.user + client.system) / 1000 / recordedSec,
  };
}

const CLK_TCK = 100;
/** utime + stime of a process, in clock ticks; undefined once it is gone. */
function cpuTicks(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop().split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

const svc = await startService();
const none = [],
  perf = [],
  dflt = [];
const perfBytes = [],
  perfUnknown = [],
  dfltBytes = [],
  dfltUnknown = [];
let method = '';
let liveProfiles = 0;
const helperCost = [],
  clientCost = [];
try {
  runLoad(svc.url, 2); // warm up
  const bin = loadBinary(svcBin);
  for (let i = 0; i < rounds; i++) {
    none.push(runLoad(svc.url, secs).rps);

    const file = path.join(tmp, 'overhead.data');
    const rec = spawn(
      'perf',
      ['record', '-q', '-g', '--call-graph', 'fp', '-F', String(FREQ), '-e', 'cpu-clock', '-p', String(svc.proc.pid), '-o', file],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 300));
    perf.push((await runLoadAsync(svc.url, secs)).rps);
    rec.kill('SIGINT');
    await new Promise((r) => rec.on('exit', r));
    perfBytes.push(fs.statSync(file).size);
    perfUnknown.push(unknownCallerShare(ingestPerfData(parsePerfData(fs.readFileSync(file)), bin, { pid: svc.proc.pid })));

    const d = await defaultRound(svc.proc.pid, svc.url);
    dflt.push(d.rps);
    dfltBytes.push(d.bytes);
    dfltUnknown.push(unknownCallerShare(d.profile));
    helperCost.push(d.helperMsPerSec);
    clientCost.push(d.clientMsPerSec);
    method = d.profile.stackMethod;
  }
} finally {
  svc.proc.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const a = median(none),
  p = median(perf),
  b = median(dflt);
const lossP = (100 * (a - p)) / a,
  lossB = (100 * (a - b)) / a;
const kb = (x) => `${(x / 1024).toFixed(0)} KB`;
const pcts = (xs) => xs.map((x) => `${(100 * x).toFixed(2)}%`).join(', ');
console.log(
  `overhead at ${FREQ} Hz on the example service (${rounds} x ${secs} s each, alternating, medians; load generator -c 2 on the same 2 cores)`,
);
console.log(`no profiler:         ${none.map((x) => x.toFixed(0)).join(', ')} req/s (median ${a.toFixed(0)})`);
console.log(
  `perf record -g fp:   ${perf.map((x) => x.toFixed(0)).join(', ')} req/s (median ${p.toFixed(0)}) → loss ${lossP.toFixed(1)}%; perf.data ${perfBytes.map(kb).join(', ')}; unknown caller ${pcts(perfUnknown)}`,
);
console.log(
  `default recording:   ${dflt.map((x) => x.toFixed(0)).join(', ')} req/s (median ${b.toFixed(0)}) → loss ${lossB.toFixed(1)}%; session ${dfltBytes.map(kb).join(', ')}; unknown caller ${pcts(dfltUnknown)}`,
);
const ms = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
console.log(
  `  the default recording's own CPU per second recorded: helper ${ms(helperCost)} ms; this process (host + ingest worker) ${ms(clientCost)} ms`,
);
console.log(`  (stacks: ${method}; profiles so far handed over while recording, as live heat draws them: ${liveProfiles})`);
const ratio = Math.abs(lossP) < 0.05 ? 'n/a (perf loss ≈ 0)' : `${(lossB / lossP).toFixed(2)}x perf's loss`;
console.log(
  `ratio (default loss / perf loss): ${ratio}; throughput default/perf: ${(b / p).toFixed(3)}; output size default/perf: ${(median(dfltBytes) / median(perfBytes)).toFixed(2)}`,
);

/**
 * `go-perf-lens mcp` as an assistant meets it: the MCP SDK's own Client over its
 * StdioClientTransport, talking to the real server (dist/cli.js mcp), which records and traces
 * real Go processes built at test time. Figures are checked against perf script, the fixtures'
 * own source and the tracee's known call counts.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ensureCli, CLI } from '../../support/cliRunner';
import { buildGoFixture, newestGo, REPO_ROOT } from '../../support/goToolchains';
import { havePerfAndRoot, perfRecordCommand, perfScriptSymbols, startService, stopAllTargets, track } from '../../support/profileTargets';
import { killAll, startTracee } from '../ebpf/goProcess';

interface Answer {
  text: string;
  isError: boolean;
}

/** A connected client of a fresh `go-perf-lens mcp`, and what the server wrote on stderr. */
async function connect(): Promise<{ client: Client; stderr: () => string }> {
  ensureCli();
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'go-perf-lens-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => err };
}

async function call(client: Client, name: string, args: Record<string, unknown>, onProgress?: (message: string) => void): Promise<Answer> {
  const r = await client.callTool({ name, arguments: args }, undefined, {
    // Recording and tracing take their seconds plus the helper's start on a loaded machine.
    timeout: 240_000,
    ...(onProgress ? { onprogress: (p: { message?: string }) => onProgress(p.message ?? '') } : {}),
  });
  const content = r.content as { type: string; text: string }[];
  assert.equal(content.length, 1);
  assert.equal(content[0]!.type, 'text');
  return { text: content[0]!.text, isError: r.isError === true };
}

/** An error answer: says so in its first words, and no stack trace. */
function assertCleanError(a: Answer, re: RegExp): void {
  assert.equal(a.isError, true, a.text);
  assert.match(a.text, /^Error: /);
  assert.match(a.text, re);
  assert.doesNotMatch(a.text, /\n\s+at |internal error|failed unexpectedly/, a.text);
}

const TOOL_NAMES = [
  'goPerfLens_listProcesses',
  'goPerfLens_recordCpu',
  'goPerfLens_topFunctions',
  'goPerfLens_hotLines',
  'goPerfLens_traceLatency',
  'goPerfLens_openProfile',
];

describe('go-perf-lens mcp: the MCP SDK client against the real server', function () {
  this.timeout(120_000);
  let client: Client;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-mcp-'));
  before(async () => {
    ({ client } = await connect());
  });
  after(async () => {
    await client?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists its six tools with the input schemas package.json declares for VS Code', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      TOOL_NAMES,
    );
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      contributes: { languageModelTools: { name: string; inputSchema: unknown; modelDescription: string }[] };
    };
    const declared = new Map(pkg.contributes.languageModelTools.map((t) => [t.name, t]));
    for (const t of tools) {
      const d = declared.get(t.name);
      assert.ok(d, `package.json declares no languageModelTool ${t.name}`);
      assert.deepEqual(t.inputSchema, d.inputSchema, t.name);
      assert.equal(t.description, d.modelDescription, t.name);
    }
    assert.deepEqual(
      tools.filter((t) => t.annotations?.readOnlyHint === false).map((t) => t.name),
      ['goPerfLens_recordCpu', 'goPerfLens_traceLatency'],
    );
  });

  it('answers bad arguments, unknown tools and unreadable inputs with a clear error, and keeps serving', async () => {
    const notProfile = path.join(tmp, 'notes.txt');
    fs.writeFileSync(notProfile, 'these are notes, not a profile\n');
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['goPerfLens_recordCpu', {}, /needs "pid"/],
      ['goPerfLens_recordCpu', { pid: 'abc' }, /"pid" must be a whole number from 1 to 4194304 \(got "abc"\)/],
      ['goPerfLens_recordCpu', { pid: 1, seconds: 0 }, /"seconds" must be a whole number from 1 to 60 \(got 0\)/],
      ['goPerfLens_recordCpu', { pid: 1, seconds: 2.5 }, /"seconds" must be a whole number/],
      ['goPerfLens_traceLatency', { pid: 1 }, /needs "function"/],
      ['goPerfLens_traceLatency', { pid: 1, function: '   ' }, /"function" must be a non-empty string/],
      ['goPerfLens_topFunctions', { sortBy: 'flat' }, /"sortBy" must be one of self, cumulative \(got "flat"\)/],
      ['goPerfLens_topFunctions', { top: 3 }, /has no argument "top"[\s\S]*takes profile \(string\), count \(integer\), sortBy \(string\)/],
      ['goPerfLens_topFunctions', {}, /there is no current profile[\s\S]*goPerfLens_recordCpu/],
      ['goPerfLens_hotLines', { file: 'main.go' }, /there is no current profile/],
      ['goPerfLens_noSuchTool', {}, /there is no tool "goPerfLens_noSuchTool"[\s\S]*goPerfLens_listProcesses/],
      ['goPerfLens_openProfile', { source: path.join(tmp, 'missing.pb.gz') }, /missing\.pb\.gz/],
      ['goPerfLens_openProfile', { source: notProfile }, /notes\.txt/],
      ['goPerfLens_openProfile', { source: 'http://127.0.0.1:1/debug/pprof/heap' }, /127\.0\.0\.1:1/],
    ];
    for (const [name, args, re] of cases) assertCleanError(await call(client, name, args), re);
    assert.equal((await client.listTools()).tools.length, TOOL_NAMES.length);
  });

  it('ends on its own, with exit code 0, when its client closes stdin', async () => {
    // Not through the SDK's transport: its close() would also signal the server after a while.
    const server = spawn(process.execPath, [CLI, 'mcp'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.stdin.end();
    const timer = setTimeout(() => server.kill('SIGKILL'), 60_000);
    try {
      assert.equal(await exited, 0, 'go-perf-lens mcp did not end with 0 after its stdin closed (killed after 60 s)');
    } finally {
      clearTimeout(timer);
    }
  });
});

/** 1-based number of the first line of `file` matching `re`: where the fixture's own source says something is. */
function lineOf(file: string, re: RegExp): number {
  const i = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => re.test(l));
  assert.ok(i >= 0, `${re} is not in ${file}`);
  return i + 1;
}

describe('go-perf-lens mcp on a real Go process [root, perf, go]', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-mcp-perf-'));
  const hotSource = path.join(REPO_ROOT, 'test', 'fixtures', 'go', 'hotline', 'main.go');
  const hotLine = lineOf(hotSource, /\/\/ HOT$/);
  const spinDecl = lineOf(hotSource, /^func spin\(/);
  let client: Client;
  let hotBin: string;
  let hotPid: number;

  before(async function () {
    this.timeout(240_000);
    if (!havePerfAndRoot()) throw new Error('these tests need root and perf (run scripts/setup.sh, as root)');
    hotBin = buildGoFixture('hotline', newestGo());
    const proc = track(spawn(hotBin, ['600'], { stdio: 'ignore' }));
    hotPid = proc.pid!;
    ({ client } = await connect());
  });
  after(async () => {
    await client?.close();
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the running Go process by PID and name, with its Go version', async () => {
    const a = await call(client, 'goPerfLens_listProcesses', {});
    assert.equal(a.isError, false, a.text);
    const row = a.text.split('\n').find((l) => l.startsWith(`PID ${hotPid} `));
    assert.ok(row, `PID ${hotPid} is not listed:\n${a.text}`);
    assert.match(row, new RegExp(`\\(go${newestGo().version.replace('.', '\\.')}[.\\d]*, CPU \\d+%`));
    assert.ok(row.includes(hotBin), row);
  });

  it('records CPU through the helper: main.spin at its declaration, the HOT line first, and it becomes the current profile', async () => {
    const progress: string[] = [];
    const a = await call(client, 'goPerfLens_recordCpu', { pid: hotPid, seconds: 2 }, (m) => progress.push(m));
    assert.equal(a.isError, false, a.text);
    const samples = Number(/^Profile "PID \d+[^"]*": (\d+) samples of /.exec(a.text)?.[1]);
    assert.ok(samples > 100, `a busy process recorded for 2 s at 999 Hz gave ${samples} samples:\n${a.text}`);
    const lines = a.text.split('\n');
    const top = lines.find((l) => l.startsWith('1. ')) ?? '';
    assert.ok(top.startsWith('1. main.spin: self '), a.text);
    assert.ok(top.endsWith(` — ${hotSource}:${spinDecl}`), `main.spin's declaration is ${hotSource}:${spinDecl}: ${top}`);
    const hottest = lines[lines.findIndex((l) => l.startsWith('Hottest ')) + 1];
    assert.ok(hottest?.startsWith(`${hotSource}:${hotLine} in main.spin: `), `the HOT line is ${hotLine}: ${hottest}`);

    // The same profile answers the next questions.
    const topAgain = await call(client, 'goPerfLens_topFunctions', { count: 1 });
    assert.equal(topAgain.isError, false, topAgain.text);
    assert.ok(topAgain.text.includes(`: ${samples} samples of `), topAgain.text);
    assert.match(topAgain.text, /^1\. main\.spin: self /m);
    const hot = await call(client, 'goPerfLens_hotLines', { file: 'hotline/main.go', count: 3 });
    assert.equal(hot.isError, false, hot.text);
    const first = hot.text.split('\n').find((l) => l.startsWith(`${hotSource}:`)) ?? '';
    assert.ok(first.startsWith(`${hotSource}:${hotLine} in main.spin: cumulative `), hot.text);
    assert.ok(
      first.endsWith(' | h = (h*h+uint64(i))%1000000007%999999937%999999929%999999893 + 3 // HOT'),
      `the line's code is quoted: ${first}`,
    );
  });

  it('opens a perf.data: its sample count and main.spin’s own samples are what perf script counts', async () => {
    const data = path.join(tmp, 'hot.data');
    perfRecordCommand([hotBin, '1.5'], data);
    // A sample taken in the kernel counts for the Go frame it entered the kernel from, as the model charges it.
    const leaves = perfScriptSymbols(data).map((s) => s.find((f) => !f.dso.includes('kernel'))?.sym ?? '');
    const a = await call(client, 'goPerfLens_openProfile', { source: data });
    assert.equal(a.isError, false, a.text);
    assert.match(a.text, new RegExp(`^Profile "hot\\.data": ${leaves.length} samples of cpu-clock at 999 Hz`));
    const spinSelf = leaves.filter((s) => s === 'main.spin').length;
    assert.ok(spinSelf > leaves.length / 2, `perf script puts ${spinSelf} of ${leaves.length} samples in main.spin`);
    assert.match(a.text, new RegExp(`^1\\. main\\.spin: self [\\d.]+% \\(${spinSelf}\\), `, 'm'));
    // Named in "profile", the file answers without becoming current; an unknown file name says which files have samples.
    const miss = await call(client, 'goPerfLens_hotLines', { file: 'nosuch.go', profile: data });
    assertCleanError(miss, /no line of a file named "nosuch\.go"[\s\S]*files with samples include: .*hotline\/main\.go/);
  });

  it('opens a pprof endpoint URL of a real Go service', async () => {
    const svc = await startService(buildGoFixture('exampleservice', newestGo()), ['-pprof']);
    try {
      const url = `${svc.url}/debug/pprof/goroutine`;
      const a = await call(client, 'goPerfLens_openProfile', { source: url });
      assert.equal(a.isError, false, a.text);
      assert.ok(a.text.startsWith(`Profile "${url}": `), a.text);
      assert.match(a.text, /: goroutines, \d+ in all at the moment it was taken/);
      // Whatever else runs, the main goroutine serves HTTP: main.main → net/http.(*Server).Serve.
      const top = await call(client, 'goPerfLens_topFunctions', { sortBy: 'cumulative', count: 200 });
      assert.match(top.text, /^\d+\. main\.main: self [\d.]+% \(0\), cumulative /m);
      assert.match(top.text, /^\d+\. net\/http\.\(\*Server\)\.Serve: self [\d.]+% \(0\), cumulative /m);
    } finally {
      await svc.stop();
    }
  });

  it('a PID that is no process: a clear error result', async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.on('close', r));
    assertCleanError(await call(client, 'goPerfLens_recordCpu', { pid: gone.pid!, seconds: 1 }), new RegExp(String(gone.pid)));
  });
});

describe('go-perf-lens mcp: trace latency [root, bcc]', function () {
  this.timeout(300_000);
  let client: Client;
  before(async function () {
    if (process.getuid?.() !== 0) throw new Error('tracing needs root (and BCC: run scripts/setup.sh)');
    ({ client } = await connect());
  });
  after(async () => {
    await client?.close();
    killAll();
  });

  it('counts every call of main.busyWork the tracee makes, with percentiles, once the probes are attached', async () => {
    const N = 500;
    const t = await startTracee(buildGoFixture('tracee', newestGo()), ['calls', String(N), '0']);
    let started = false;
    const a = await call(client, 'goPerfLens_traceLatency', { pid: t.pid, function: 'main.busyWork', seconds: 20 }, (m) => {
      if (!started && /^attached \d+ probe/.test(m)) {
        started = true;
        t.start();
      }
    });
    assert.ok(started, 'no "attached" progress came before the answer');
    assert.match(await t.done(), new RegExp(`^done ${N} 0 `));
    assert.equal(a.isError, false, a.text);
    // busyWork spins for 100 µs: no call is shorter.
    const m = new RegExp(
      `^main\\.busyWork: ${N} calls in [\\d.]+ s, [\\d.]+ calls/s; wall-clock per call \\(waiting included\\): avg ([\\d.]+) (µs|ms), p50 `,
      'm',
    ).exec(a.text);
    assert.ok(m, a.text);
    assert.ok(m[2] === 'ms' || Number(m[1]) >= 100, `avg ${m[1]} ${m[2]} < 100 µs`);
    assert.doesNotMatch(a.text, /Not timed/);
  });

  it('a function the binary does not have: a clear error that names close matches', async () => {
    const t = await startTracee(buildGoFixture('tracee', newestGo()), ['calls', '1', '0']);
    assertCleanError(
      await call(client, 'goPerfLens_traceLatency', { pid: t.pid, function: 'main.busyWrok', seconds: 1 }),
      /main\.busyWrok[\s\S]*main\.busyWork/,
    );
    execFileSync('kill', ['-TERM', String(t.pid)]);
  });
});

/**
 * Fetching from a pprof endpoint, against real HTTP(S) servers on loopback that answer the way
 * broken or wrong endpoints do: each failure is a UserError with its own code and a message that
 * names what happened. (A real Go program's endpoints: test/integration/ingest/pprofEndpoint.test.ts.)
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  type EndpointProgress,
  fetchPprofEndpoint,
  looksLikeProfile,
  parsePprofUrl,
  recordingSeconds,
} from '../../../src/capture/pprofEndpoint';
import { freePort } from '../../support/ports';
import { UserError } from '../../../src/util/userError';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(
  handler: Handler,
  tls?: { key: Buffer; cert: Buffer },
): Promise<{ base: string; close: () => Promise<void>; sockets: Set<net.Socket> }> {
  const srv = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    return e;
  }
  assert.fail('resolved, expected an error');
}

/** A gzipped profile.proto with a single string table entry: enough to look like a profile. */
const PROFILE = zlib.gzipSync(Buffer.from([0x32, 0x00]));

describe('pprof endpoint fetching', function () {
  this.timeout(30_000);

  it('reads what a person types: a bare host:port means the CPU profile, other schemes are refused', () => {
    assert.equal(parsePprofUrl('localhost:6060').href, 'http://localhost:6060/debug/pprof/profile');
    assert.equal(parsePprofUrl(' https://h:1/debug/pprof/heap ').href, 'https://h:1/debug/pprof/heap');
    assert.equal(recordingSeconds(parsePprofUrl('h:1/debug/pprof/profile?seconds=7')), 7);
    assert.equal(recordingSeconds(parsePprofUrl('h:1/debug/pprof/profile')), 30);
    assert.equal(recordingSeconds(parsePprofUrl('h:1/debug/pprof/heap')), undefined);
    assert.equal(recordingSeconds(parsePprofUrl('h:1/debug/pprof/allocs?seconds=3')), 3);
    for (const bad of ['', 'ftp://h/x', 'http://'])
      assert.throws(
        () => parsePprofUrl(bad),
        (e: unknown) => e instanceof UserError && e.code === 'url-invalid',
        bad,
      );
    assert.ok(looksLikeProfile(PROFILE));
    assert.ok(!looksLikeProfile(Buffer.from('<html>')));
    assert.ok(!looksLikeProfile(Buffer.from('heap profile: 0: 0 [3: 1851392] @ heap/1048576\n')));
  });

  it('a profile arrives whole, with progress while the server records', async () => {
    const s = await serve((_req, res) =>
      setTimeout(() => {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(PROFILE);
      }, 600),
    );
    try {
      const seen: EndpointProgress[] = [];
      const got = await fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/profile?seconds=1`), { onProgress: (p) => seen.push(p) });
      assert.deepEqual(Buffer.from(got.bytes), PROFILE);
      assert.ok(
        seen.some((p) => p.phase === 'waiting' && p.expectedMs === 1000),
        JSON.stringify(seen),
      );
      assert.ok(got.elapsedMs >= 550, `${got.elapsedMs} ms`);
    } finally {
      await s.close();
    }
  });

  it('404: says which path the host does not have and how to serve pprof', async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('404 page not found\n');
    });
    try {
      const e = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap`)));
      assert.equal(e.code, 'endpoint-not-found');
      assert.match(e.message, /has no \/debug\/pprof\/heap \(HTTP 404\): "404 page not found"/);
      assert.match(e.hint ?? '', /net\/http\/pprof/);
    } finally {
      await s.close();
    }
  });

  it('a server error is quoted; a CPU profile already running is named', async () => {
    const s = await serve((_req, res) => {
      res.statusCode = 500;
      res.end('Could not enable CPU profiling: cpu profiling already in use\n');
    });
    try {
      const e = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/profile?seconds=1`)));
      assert.equal(e.code, 'endpoint-http');
      assert.match(e.message, /HTTP 500: "Could not enable CPU profiling/);
      assert.match(e.hint ?? '', /another CPU profile/);
    } finally {
      await s.close();
    }
  });

  it('a body that is not a profile (an HTML page, the text of ?debug=1) is refused', async () => {
    const s = await serve((req, res) => {
      res.setHeader('content-type', req.url!.includes('debug=1') ? 'text/plain' : 'text/html');
      res.end(req.url!.includes('debug=1') ? 'heap profile: 0: 0 [3: 1851392] @ heap/1048576\n' : '<html><body>hello</body></html>');
    });
    try {
      const html = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap`)));
      assert.equal(html.code, 'endpoint-not-profile');
      assert.match(html.message, /did not answer with a profile \(text\/html: "<html>/);
      const text = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap?debug=1`)));
      assert.equal(text.code, 'endpoint-not-profile');
      assert.match(text.hint ?? '', /remove \?debug=/);
    } finally {
      await s.close();
    }
  });

  it('a server that never answers times out with a clear message', async () => {
    const s = await serve(() => {
      /* never answers */
    });
    try {
      const t0 = Date.now();
      const e = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap`), { graceMs: 500 }));
      assert.equal(e.code, 'endpoint-timeout');
      assert.match(e.message, /did not answer within 1 s|did not answer within 0 s/);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await s.close();
    }
  });

  it('a refused connection says nothing listens there', async () => {
    const port = await freePort();
    const e = await rejection(fetchPprofEndpoint(new URL(`http://127.0.0.1:${port}/debug/pprof/heap`)));
    assert.equal(e.code, 'endpoint-refused');
    assert.match(e.message, new RegExp(`nothing listens at 127\\.0\\.0\\.1:${port}`));
  });

  it('cancel ends the fetch at once and closes the connection', async () => {
    const s = await serve(() => {
      /* records "forever" */
    });
    try {
      const abort = new AbortController();
      const p = fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/profile?seconds=30`), {
        signal: abort.signal,
        onProgress: (pr) => {
          if (pr.phase === 'waiting') abort.abort();
        },
      });
      const e = await rejection(p);
      assert.equal(e.code, 'cancelled');
      for (let i = 0; i < 50 && s.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(s.sockets.size, 0, 'the server still holds the connection');
    } finally {
      await s.close();
    }
  });

  it('a body larger than the limit stops there', async () => {
    const s = await serve((_req, res) => {
      res.write(PROFILE);
      res.end(Buffer.alloc(64 * 1024));
    });
    try {
      const e = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap`), { maxBytes: 16 * 1024 }));
      assert.equal(e.code, 'input-too-large');
    } finally {
      await s.close();
    }
  });

  describe('TLS [openssl]', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-tls-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('an untrusted certificate and https to a plain-HTTP port each end in a TLS message', async () => {
      const key = path.join(dir, 'key.pem'),
        cert = path.join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
        { stdio: 'ignore' },
      );
      const s = await serve((_req, res) => res.end(PROFILE), { key: fs.readFileSync(key), cert: fs.readFileSync(cert) });
      const plain = await serve((_req, res) => res.end(PROFILE));
      try {
        const e = await rejection(fetchPprofEndpoint(new URL(`${s.base}/debug/pprof/heap`)));
        assert.equal(e.code, 'endpoint-tls');
        assert.match(e.message, /the TLS connection to 127\.0\.0\.1:\d+ failed: .*self.signed/i);
        assert.match(e.hint ?? '', /NODE_EXTRA_CA_CERTS/);
        const wrong = await rejection(fetchPprofEndpoint(new URL(`${plain.base.replace('http:', 'https:')}/debug/pprof/heap`)));
        assert.equal(wrong.code, 'endpoint-tls');
        assert.match(wrong.message, /does not speak TLS/);
        assert.match(wrong.hint ?? '', /^use http:\/\//);
      } finally {
        await s.close();
        await plain.close();
      }
    });
  });
});

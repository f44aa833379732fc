/**
 * Fetching a profile from a Go program's net/http/pprof endpoint (`/debug/pprof/profile?seconds=10`,
 * `/heap`, `/allocs`, `/block`, `/mutex`, `/goroutine`) over plain HTTP(S): no helper, no root.
 * What comes back is only checked to look like a profile (gzip or profile.proto); decoding is
 * ingest's job. Every way it can fail ends in a UserError that says what happened and what to do.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { UserError } from '../util/userError';

export interface EndpointProgress {
  /** 'waiting': connected, the server is still recording; 'receiving': the body is arriving. */
  phase: 'connecting' | 'waiting' | 'receiving';
  elapsedMs: number;
  /** How long the server records before it answers (the `seconds` of a CPU profile), when known. */
  expectedMs?: number;
  bytes: number;
}

export interface FetchEndpointOptions {
  signal?: AbortSignal;
  onProgress?: (p: EndpointProgress) => void;
  /** Time allowed for connecting and for the answer beyond the recording's own seconds (default 15 s). */
  graceMs?: number;
  /** The most a body may hold (default 256 MB); real profiles are a few MB. */
  maxBytes?: number;
}

export interface FetchedProfile {
  url: string;
  bytes: Uint8Array;
  contentType: string;
  elapsedMs: number;
}

const DEFAULT_GRACE_MS = 15_000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** net/http/pprof's own default when /profile has no `seconds`. */
const GO_DEFAULT_PROFILE_SECONDS = 30;
const PPROF_HINT =
  'serve net/http/pprof in the program (import _ "net/http/pprof" and an http.ListenAndServe), then use a URL such as http://HOST:6060/debug/pprof/profile?seconds=10 or /debug/pprof/heap';

/**
 * The URL to fetch from what a person typed: "http(s)://host:port/path?query"; without a
 * scheme, http; without a path, the CPU profile (as `go tool pprof host:port` does).
 */
export function parsePprofUrl(text: string): URL {
  const t = text.trim();
  if (!t) throw new UserError('no URL given', PPROF_HINT, 'url-invalid');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `http://${t}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new UserError(`"${t}" is not a URL`, PPROF_HINT, 'url-invalid');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UserError(`${u.protocol}// URLs are not pprof endpoints`, 'use an http:// or https:// URL', 'url-invalid');
  if (!u.hostname) throw new UserError(`"${t}" has no host`, PPROF_HINT, 'url-invalid');
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/debug/pprof/profile';
  return u;
}

/** How long the server records before it answers: `seconds` of /profile (30 when absent) or of a delta profile. */
export function recordingSeconds(u: URL): number | undefined {
  const s = u.searchParams.get('seconds');
  const n = s !== null && /^\d+$/.test(s) ? Number(s) : undefined;
  if (u.pathname.endsWith('/profile')) return n ?? GO_DEFAULT_PROFILE_SECONDS;
  return n;
}

/** A short, safe echo of what a server said (first line, printable characters only). */
function firstLine(body: Buffer): string {
  const s =
    body
      .subarray(0, 400)
      .toString('utf8')
      .split('\n')
      .find((l) => l.trim().length > 0) ?? '';
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .trim()
      .slice(0, 200)
  );
}

/**
 * Whether bytes can be a profile: gzip (what Go serves), or a profile.proto whose first tag is
 * one of Profile's fields and that is not plain text (many letters are valid tags too: the text
 * of ?debug=1 starts with "heap profile:").
 */
export function looksLikeProfile(b: Uint8Array): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  if (b.length === 0) return false;
  const field = b[0]! >> 3,
    wire = b[0]! & 7;
  if (field < 1 || field > 14 || (wire !== 0 && wire !== 2)) return false;
  const head = b.subarray(0, 512);
  return !head.every((c) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c !== 0x7f));
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** A socket or TLS error → what happened and what to do. */
function networkError(e: NodeJS.ErrnoException, u: URL): UserError {
  const where = u.host;
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || /SSL|TLS|certificate/i.test(e.message)) {
    const plainHttp = code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(e.message);
    return new UserError(
      plainHttp
        ? `${where} does not speak TLS: the endpoint is plain HTTP (${e.message})`
        : `the TLS connection to ${where} failed: ${e.message} (${code})`,
      plainHttp
        ? `use http://${where}${u.pathname}${u.search}`
        : "the server's certificate is not trusted here: use the host name the certificate names, or add its CA with NODE_EXTRA_CA_CERTS=/path/ca.pem (the CLI) — certificate checks are never skipped",
      'endpoint-tls',
    );
  }
  if (code === 'ECONNREFUSED')
    return new UserError(
      `nothing listens at ${where} (connection refused)`,
      `is the program running and serving net/http/pprof on that port? ${PPROF_HINT}`,
      'endpoint-refused',
    );
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new UserError(
      `cannot resolve the host name ${u.hostname}`,
      'check the host name, or use its IP address',
      'endpoint-unreachable',
    );
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT')
    return new UserError(
      `${where} cannot be reached (${code})`,
      'check the address, the network and any firewall between here and the host',
      'endpoint-unreachable',
    );
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return new UserError(
      `${where} closed the connection before the profile was complete (${code})`,
      'the program may have exited or restarted; try again',
      'endpoint-reset',
    );
  return new UserError(`fetching ${u.href} failed: ${e.message}${code ? ` (${code})` : ''}`, PPROF_HINT, 'endpoint-failed');
}

/** An HTTP status other than 200 → what happened and what to do; Go's handlers explain their errors in the body. */
function statusError(status: number, body: Buffer, u: URL, location: string | undefined): UserError {
  const said = firstLine(body);
  const tail = said ? `: "${said}"` : '';
  if (status === 404) {
    return new UserError(
      `${u.host} has no ${u.pathname} (HTTP 404)${tail}`,
      `${PPROF_HINT}; ${u.protocol}//${u.host}/debug/pprof/ lists the profiles it serves`,
      'endpoint-not-found',
    );
  }
  if (status >= 300 && status < 400) {
    return new UserError(
      `${u.href} redirects (HTTP ${status})${location ? ` to ${location}` : ''}`,
      location ? `open ${location} instead` : 'open the URL it redirects to',
      'endpoint-redirect',
    );
  }
  if (status === 401 || status === 403)
    return new UserError(
      `${u.host} refused the request (HTTP ${status})${tail}`,
      'this endpoint needs credentials Go Perf Lens does not send; fetch the profile yourself and open the file',
      'endpoint-refused',
    );
  return new UserError(
    `${u.href} answered HTTP ${status}${tail}`,
    /already in use/i.test(said)
      ? 'another CPU profile of that program is running (a second go tool pprof?): wait for it and try again'
      : /WriteTimeout/i.test(said)
        ? "the server's WriteTimeout is shorter than the profile: ask for fewer seconds"
        : PPROF_HINT,
    'endpoint-http',
  );
}

/**
 * Fetches a profile. Rejects with a UserError (code 'cancelled' when the signal aborts) on a
 * timeout, a refused or unreachable host, a TLS failure, an HTTP status other than 200, a body
 * over maxBytes, or a body that is not a profile (an HTML page, the text of ?debug=1).
 */
export function fetchPprofEndpoint(url: URL, opts: FetchEndpointOptions = {}): Promise<FetchedProfile> {
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const expectedSec = recordingSeconds(url);
  const expectedMs = expectedSec !== undefined ? expectedSec * 1000 : undefined;
  const deadlineMs = (expectedMs ?? 0) + grace;
  const started = Date.now();
  return new Promise<FetchedProfile>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new UserError('cancelled', undefined, 'cancelled'));
      return;
    }
    let bytes = 0;
    let phase: EndpointProgress['phase'] = 'connecting';
    let settled = false;
    const report = (): void =>
      opts.onProgress?.({ phase, elapsedMs: Date.now() - started, bytes, ...(expectedMs !== undefined ? { expectedMs } : {}) });
    const ticker = setInterval(report, 250);
    const finish = (err: UserError | undefined, value?: FetchedProfile): void => {
      if (settled) return;
      settled = true;
      clearInterval(ticker);
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = (): void => finish(new UserError('cancelled', undefined, 'cancelled'));
    const deadline = setTimeout(() => {
      const what =
        phase === 'connecting'
          ? `could not connect to ${url.host}`
          : phase === 'waiting'
            ? `${url.host} did not answer`
            : `${url.host} did not finish sending the profile`;
      finish(
        new UserError(
          `${what} within ${Math.round(deadlineMs / 1000)} s`,
          phase === 'connecting'
            ? 'check the address and that nothing (a firewall, a proxy) holds the connection'
            : 'the program may be overloaded or stopped; try again, or ask for fewer seconds',
          'endpoint-timeout',
        ),
      );
    }, deadlineMs);
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { headers: { 'accept-encoding': 'identity', 'user-agent': 'go-perf-lens' } }, (res) => {
      phase = 'receiving';
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > maxBytes) {
          finish(
            new UserError(
              `${url.href} sent more than ${Math.round(maxBytes / (1024 * 1024))} MB: reading stopped there`,
              'real profiles are a few MB; check the URL',
              'input-too-large',
            ),
          );
          return;
        }
        // An error page needs only its first lines.
        if (status === 200 || bytes < 4096) chunks.push(c);
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish(networkError(e, url)));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (status !== 200) {
          finish(statusError(status, body, url, res.headers.location));
          return;
        }
        const contentType = String(res.headers['content-type'] ?? '');
        if (!looksLikeProfile(body)) {
          const said = firstLine(body);
          finish(
            new UserError(
              body.length === 0
                ? `${url.href} answered with an empty body, not a profile`
                : `${url.href} did not answer with a profile (${contentType || 'no content type'}${said ? `: "${said}"` : ''})`,
              url.searchParams.has('debug') ? 'remove ?debug=… from the URL: it asks for text, not a profile' : PPROF_HINT,
              'endpoint-not-profile',
            ),
          );
          return;
        }
        finish(undefined, { url: url.href, bytes: body, contentType, elapsedMs: Date.now() - started });
      });
    });
    req.on('socket', (sock) => {
      const connected = (): void => {
        if (phase === 'connecting') {
          phase = 'waiting';
          report();
        }
      };
      if (!sock.connecting) connected();
      else sock.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish(networkError(e, url)));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The INPUT of `report` and `pprof`: a profile file, or the URL of a pprof endpoint, which is
 * fetched (progress on stderr; Ctrl-C cancels) and tied to a local binary when one matches — on
 * the ingest worker, the editor's path for the same answer.
 */
import { fetchPprofEndpoint, parsePprofUrl, type EndpointProgress } from '../capture/pprofEndpoint';
import { ingestEndpointInWorker } from '../commands/ingestWorker';
import { openProfileFile } from '../ingest/openInput';
import type { Profile } from '../model/profile';

/** "http://…", "https://…" or "host:port/…": what a person types for an endpoint. */
export function isEndpoint(input: string): boolean {
  return /^https?:\/\//i.test(input) || /^[\w.-]+:\d+(\/|$)/.test(input);
}

export async function openInput(input: string, binary: string | undefined): Promise<Profile> {
  if (!isEndpoint(input)) return openProfileFile(input, binary ? { binary } : {}).profile;
  const url = parsePprofUrl(input);
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const onProgress = (p: EndpointProgress): void => {
    if (tty) {
      const secs = `${Math.floor(p.elapsedMs / 1000)} s${p.expectedMs ? ` of ${p.expectedMs / 1000} s` : ''}`;
      process.stderr.write(`\rfetching ${url.href}: ${p.phase === 'receiving' ? `${p.bytes} bytes` : p.phase} (${secs})   `);
    } else if (!shown) {
      shown = true;
      process.stderr.write(`fetching ${url.href}${p.expectedMs ? ` (the program records for ${p.expectedMs / 1000} s)` : ''}…\n`);
    }
  };
  try {
    const fetched = await fetchPprofEndpoint(url, { onProgress });
    return await ingestEndpointInWorker(fetched.bytes, url.href, binary ? { binary } : {});
  } finally {
    if (tty) process.stderr.write('\n');
  }
}

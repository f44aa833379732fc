/**
 * Open pprof endpoint…: fetches a profile from a Go program's net/http/pprof endpoint (no root,
 * no helper) with progress and cancel, and shows it as heat. Files map to local sources as any
 * profile's do (goPerfLens.pathMappings, the workspace's go.mod modules, GOROOT); the profiled
 * binary is used when it is here and matches (ingest/fromEndpoint).
 */
import * as vscode from 'vscode';
import { fetchPprofEndpoint, parsePprofUrl } from '../capture/pprofEndpoint';
import type { Profile } from '../model/profile';
import type { ProfileSession } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { ingestEndpointInWorker } from './ingestWorker';

const LAST_URL_KEY = 'goPerfLens.lastPprofUrl';

/** What the tree and status bar call a fetched profile: host and profile name ("127.0.0.1:6060 heap"). */
export function endpointLabel(url: URL): string {
  const name = url.pathname.replace(/\/+$/, '').split('/').pop() || 'profile';
  const secs = url.searchParams.get('seconds');
  return `${url.host} ${name}${secs ? ` ${secs}s` : ''}`;
}

/** Fetches and ingests with a cancellable notification; undefined when the user cancels. */
export async function fetchEndpointProfile(url: URL): Promise<Profile | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Go Perf Lens: fetching ${url.href}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      try {
        const fetched = await fetchPprofEndpoint(url, {
          signal: abort.signal,
          onProgress: (p) => {
            const pct = p.expectedMs ? Math.min(95, (100 * p.elapsedMs) / p.expectedMs) : 0;
            const secs = Math.floor(p.elapsedMs / 1000);
            const message =
              p.phase === 'connecting'
                ? 'connecting…'
                : p.phase === 'waiting'
                  ? p.expectedMs
                    ? `the program records for ${p.expectedMs / 1000} s: ${secs} s`
                    : `waiting for the answer: ${secs} s`
                  : `receiving: ${Math.round(p.bytes / 1024)} KB`;
            progress.report({ message, increment: pct - reported });
            reported = pct;
          },
        });
        progress.report({ message: 'reading the profile…' });
        // Decoded and tied to a local binary on a worker thread: a large profile never holds the extension host.
        return await ingestEndpointInWorker(fetched.bytes, url.href);
      } catch (e) {
        if (e instanceof UserError && e.code === 'cancelled') return undefined;
        throw e;
      } finally {
        sub.dispose();
      }
    },
  );
}

/** The command: asks for the URL (remembering the last one) unless given, then shows the profile. */
export async function openPprofEndpointCommand(session: ProfileSession, memento: vscode.Memento, given?: string): Promise<void> {
  let text = given;
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: 'Open pprof endpoint',
      prompt: 'A net/http/pprof URL: /debug/pprof/profile?seconds=10 (CPU), /heap, /allocs, /block, /mutex, /goroutine',
      value: memento.get<string>(LAST_URL_KEY) ?? 'http://localhost:6060/debug/pprof/profile?seconds=10',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          parsePprofUrl(v);
          return undefined;
        } catch (e) {
          return e instanceof UserError ? e.message : String(e);
        }
      },
    });
    if (text === undefined) return;
  }
  const url = parsePprofUrl(text);
  await memento.update(LAST_URL_KEY, url.href);
  const profile = await fetchEndpointProfile(url);
  if (profile) session.set({ profile, label: endpointLabel(url) });
}

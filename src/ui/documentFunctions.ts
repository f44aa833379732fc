/**
 * Which profiled (or traced) functions are declared in a document, and on which line:
 * from the model's decl line when it maps to this file, else by scanning the text for the
 * matching `func` declaration. Scans are cached per document version.
 */
import type * as vscode from 'vscode';
import type { FunctionLatency, FunctionStat } from '../model/profile';
import { findFuncDecl, parseGoFuncName, scanFuncDecls, type FuncDeclLine } from './funcDecl';
import type { ProfileView } from './profileView';

export interface DocumentFunction {
  /** 1-based line of the `func` keyword. */
  line1: number;
  name: string;
  stat?: FunctionStat;
  latency?: FunctionLatency;
}

const scanCache = new WeakMap<vscode.TextDocument, { version: number; decls: FuncDeclLine[]; pkg: string | undefined }>();

function scan(doc: vscode.TextDocument): { decls: FuncDeclLine[]; pkg: string | undefined } {
  const hit = scanCache.get(doc);
  if (hit && hit.version === doc.version) return hit;
  const text = doc.getText();
  const pkg = /^package\s+(\w+)/m.exec(text)?.[1];
  const entry = { version: doc.version, decls: scanFuncDecls(text), pkg };
  scanCache.set(doc, entry);
  return entry;
}

export function documentFunctions(view: ProfileView, doc: vscode.TextDocument): DocumentFunction[] {
  const out = new Map<string, DocumentFunction>();
  const fsPath = doc.uri.fsPath;
  const { decls, pkg } = scan(doc);
  const declLineOf = (name: string, modelFile: string | undefined, modelLine: number | undefined): number | undefined => {
    // The model's line wins when this file has that function's declaration there; otherwise
    // (inlined-only functions, edited files) the scan finds it by name.
    const byName = findFuncDecl(decls, name);
    if (modelFile && modelLine && byName !== modelLine && view.resolve(modelFile)?.path === fsPath) {
      const f = parseGoFuncName(name);
      if (!f.anonymous && decls.some((d) => d.line1 === modelLine && d.name === f.name && d.receiver === f.receiver)) return modelLine;
    }
    return byName;
  };
  for (const fn of view.functionsIn(fsPath)) {
    const stat = view.profile.functions[fn]!;
    const line1 = declLineOf(stat.name, stat.file, stat.line1);
    if (line1 === undefined) continue;
    const e: DocumentFunction = { line1, name: stat.name, stat };
    const lat = view.latencyOf(stat.name);
    if (lat) e.latency = lat;
    out.set(stat.name, e);
  }
  // Traced functions without CPU samples in this file: match by package name and declaration.
  for (const lat of view.latencies()) {
    if (out.has(lat.function)) continue;
    const parsed = parseGoFuncName(lat.function);
    const lastPkg = parsed.pkg.slice(parsed.pkg.lastIndexOf('/') + 1);
    if (pkg === undefined || lastPkg !== pkg) continue;
    const line1 = findFuncDecl(decls, lat.function);
    if (line1 !== undefined) out.set(lat.function, { line1, name: lat.function, latency: lat });
  }
  return [...out.values()].sort((a, b) => a.line1 - b.line1);
}

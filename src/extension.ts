/**
 * Go Perf Lens in VS Code. activate() only wires things up: every provider, view, command and
 * listener is created here and pushed onto context.subscriptions.
 */
import { execa } from 'execa';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportPprofCommand, openProfileCommand, pinBaselineCommand, saveProfileCommand } from './commands/profileFiles';
import { readProfileInWorker } from './commands/ingestWorker';
import { openPprofEndpointCommand } from './commands/openPprofEndpoint';
import { registerLanguageModelTools } from './commands/languageModelTools';
import { GoTestProfiler } from './commands/profileGoTestCommand';
import type { LaunchedProgram } from './commands/launchProgram';
import { chooseProcess, passwordPrompt, type ProcessPickDeps, profileProcessCommand, type ProfileDeps } from './commands/profileProcess';
import { setupMachineCommand } from './commands/setupMachine';
import { showError } from './commands/showError';
import { RecordingControl } from './commands/recordingControl';
import { runTraceMode, traceAgainCommand, traceFunctionCommand, type TraceDeps } from './commands/traceFunction';
import type { Profile } from './model/profile';
import { ConfigWatcher } from './ui/config';
import type { GoPerfLensApi, GoPerfLensTesting, TreeRow } from './ui/extensionApi';
import { FlameGraphPanel } from './ui/flameGraphPanel';
import { GoTestCodeLensProvider } from './ui/goTestCodeLensProvider';
import { functionAsText } from './ui/summaryText';
import { findHottestOwnLine, goToHottestLine } from './ui/goToHottestLine';
import { Freshness } from './ui/freshness';
import { HotFunctionsTree, type FunctionNode } from './ui/hotFunctionsTree';
import { LatencyPanel } from './ui/latencyPanel';
import { LineHeatDecorator } from './ui/lineHeatDecorator';
import { MetricStatusBar, noticeUncomparedBaseline, SHOW_HEAT_FOR, showHeatForCommand } from './ui/metricSwitch';
import { ProfileCodeLensProvider } from './ui/profileCodeLensProvider';
import { ProfileHistoryWatcher } from './ui/profileHistoryPicker';
import { ProfileHoverProvider } from './ui/profileHoverProvider';
import { ProfileSession } from './ui/profileSession';
import { ProfileStatusBar } from './ui/statusBar';
import { scanFuncDecls, findFuncDecl, parseGoFuncName, wrappedFunctions } from './ui/funcDecl';
import { UserError } from './util/userError';

const launched = new Set<LaunchedProgram>();

export function activate(context: vscode.ExtensionContext): GoPerfLensApi {
  const subs = context.subscriptions;
  const log = vscode.window.createOutputChannel('Go Perf Lens');
  const config = new ConfigWatcher();
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const session = new ProfileSession(config, storage);
  const freshness = new Freshness(session);
  const decorator = new LineHeatDecorator(session, config, freshness);
  const tree = new HotFunctionsTree(session);
  const treeView = vscode.window.createTreeView('goPerfLens.hotFunctions', { treeDataProvider: tree, showCollapseAll: true });
  const codeLenses = new ProfileCodeLensProvider(session, config);
  const goFiles: vscode.DocumentSelector = { language: 'go', scheme: 'file' };
  const openFunction = (name: string, column?: vscode.ViewColumn): Promise<void> => openFunctionSource(session, name, column);
  const flame = new FlameGraphPanel(
    context.extensionUri,
    session,
    (name, column) => openFunction(name, column).catch((e: unknown) => showError(e, log, 'Open function')),
    (line) => log.appendLine(line),
  );
  const latencyPanel = new LatencyPanel(context.extensionUri, session);
  const metricBar = new MetricStatusBar(session);
  subs.push(
    log,
    config,
    session,
    freshness,
    decorator,
    tree,
    treeView,
    codeLenses,
    flame,
    latencyPanel,
    new ProfileStatusBar(session),
    metricBar,
  );
  subs.push(
    vscode.languages.registerCodeLensProvider(goFiles, codeLenses),
    vscode.languages.registerHoverProvider(goFiles, new ProfileHoverProvider(session, freshness)),
    vscode.languages.registerCodeLensProvider({ language: 'go', scheme: 'file', pattern: '**/*_test.go' }, new GoTestCodeLensProvider()),
  );
  const goTests = new GoTestProfiler(session, log);
  const describeTree = (): void => {
    treeView.description = session.current ? tree.describeState() : undefined;
    treeView.message =
      session.baseline && session.current
        ? session.comparing
          ? `Compared with baseline ${session.baseline.label}: changes within sampling noise are left out.`
          : (session.notComparedReason ?? `Baseline ${session.baseline.label} pinned: the next profile will be compared with it.`)
        : undefined;
  };
  subs.push(session.onDidChange(describeTree), tree.onDidChangeState(describeTree), noticeUncomparedBaseline(session));
  describeTree();

  const recording = new RecordingControl();
  const history = new ProfileHistoryWatcher(session);
  subs.push(recording, history);
  const askPassword = passwordPrompt();
  const cacheDir = path.join(context.globalStorageUri.fsPath, 'binaries');
  const pickDeps: ProcessPickDeps = { config: () => config.value, askPassword, launched };
  const traceDeps: TraceDeps = {
    session,
    config: () => config.value,
    cacheDir,
    askPassword,
    pickPid: async (title, placeholder) => {
      const c = await chooseProcess(pickDeps, placeholder ? { title, placeholder } : { title });
      return c && { target: c.target, pid: c.pid };
    },
    showLatencyPanel: () => latencyPanel.show(),
  };
  const profileDeps: ProfileDeps = {
    ...pickDeps,
    session,
    cacheDir,
    recording,
    history,
    runTrace: (target, pid, mode) => runTraceMode(traceDeps, target, pid, mode),
  };

  // The same tools as `go-perf-lens mcp`, for VS Code's agent mode, answering from this window's profile.
  subs.push(...registerLanguageModelTools({ session, askPassword, cacheDir }));

  // Every command reports errors the same way: a message with a way forward, never a stack.
  const command = (id: string, what: string, fn: (...args: never[]) => unknown): void => {
    subs.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          await fn(...args);
        } catch (e) {
          await showError(e, log, what);
        }
      }),
    );
  };
  command('goPerfLens.profileProcess', 'Profile Go process', () => profileProcessCommand(profileDeps));
  command('goPerfLens.stopRecording', 'Stop recording', () => recording.stop());
  command('goPerfLens.discardRecording', 'Discard recording', () => recording.discard());
  command('goPerfLens.switchProfile', 'Switch profile', () => history.pick());
  command(SHOW_HEAT_FOR, 'Show heat for', (id?: string) => showHeatForCommand(session, id));
  command('goPerfLens.setupMachine', 'Set up this machine for profiling', () =>
    setupMachineCommand(context.extensionPath, config.value.remoteHost),
  );
  command('goPerfLens.openProfile', 'Open profile', () => openProfileCommand(session));
  command('goPerfLens.openPprofEndpoint', 'Open pprof endpoint', (url?: string) =>
    openPprofEndpointCommand(session, context.workspaceState, url),
  );
  command('goPerfLens.profileGoTest', 'Profile benchmark or test', (uri?: vscode.Uri, kind?: 'bench' | 'test', name?: string) =>
    goTests.command(uri, kind, name),
  );
  command('goPerfLens.openBaseline', 'Open baseline', () => openProfileCommand(session, true));
  command('goPerfLens.saveProfile', 'Save profile', () => saveProfileCommand(session));
  command('goPerfLens.exportPprof', 'Export pprof', () => exportPprofCommand(session));
  command('goPerfLens.clearProfile', 'Clear profile', async () => {
    if (!session.current) return;
    const clear = 'Clear';
    const answer = await vscode.window.showWarningMessage(
      `Clear the profile "${session.current.label}"? Its heat, lenses and tree go away (save it first to keep it).`,
      { modal: true },
      clear,
    );
    if (answer === clear) session.set(undefined);
  });
  command('goPerfLens.pinBaseline', 'Pin baseline', () => pinBaselineCommand(session));
  command('goPerfLens.clearBaseline', 'Clear baseline', () => session.setBaseline(undefined));
  command('goPerfLens.traceFunction', 'Trace latency', (arg?: FunctionNode | string) => traceFunctionCommand(traceDeps, arg));
  command('goPerfLens.traceAgain', 'Trace latency again', (name: string) => traceAgainCommand(traceDeps, name));
  command('goPerfLens.showFlameGraph', 'Show flame graph', () => flame.show());
  command('goPerfLens.showInFlameGraph', 'Show in flame graph', (arg?: FunctionNode | string) => {
    const name = typeof arg === 'string' ? arg : arg?.name;
    if (!name) return flame.show();
    if (!flame.showFunction(name))
      throw new UserError(`${name} has no frame in the flame graph of this profile`, undefined, 'not-in-flame-graph');
  });
  command('goPerfLens.showLatency', 'Show latency', () => latencyPanel.show());
  command('goPerfLens.showCallers', 'Show callers', () => tree.setMode('callers'));
  command('goPerfLens.showCallees', 'Show callees', () => tree.setMode('callees'));
  command('goPerfLens.sortBySelf', 'Sort by self', () => tree.setSort('self'));
  command('goPerfLens.sortByCumulative', 'Sort by cumulative', () => tree.setSort('cumulative'));
  command('goPerfLens.showMyCode', 'Show my code', () => tree.setFilter('mine'));
  command('goPerfLens.showAllCode', 'Show all code', () => tree.setFilter('all'));
  command('goPerfLens.searchFunctions', 'Search functions', async () => {
    const text = await vscode.window.showInputBox({
      title: 'Hot functions: keep the rows whose name contains…',
      value: tree.search,
      prompt: 'Part of a function or package name, e.g. "sha256" or "handle" (empty shows all)',
    });
    if (text !== undefined) tree.setSearch(text);
  });
  command('goPerfLens.clearSearch', 'Clear search', () => tree.setSearch(''));
  command('goPerfLens.goToHottestLine', 'Go to the hottest line', (offer?: boolean) => goToHottestLine(session, offer === true));
  command('goPerfLens.openFunction', 'Open function', (name: string) => openFunction(name));
  command('goPerfLens.openSite', 'Open call site', async (recordedFile: string, line1: number) => {
    const local = session.view()?.resolve(recordedFile);
    if (!local)
      throw new UserError(
        `${recordedFile} is not in this workspace`,
        'add a "goPerfLens.pathMappings" entry from the recorded file name to a local folder',
        'source-not-found',
      );
    const pos = new vscode.Position(Math.max(0, Number(line1) - 1), 0);
    await vscode.window.showTextDocument(vscode.Uri.file(local.path), {
      selection: new vscode.Range(pos, pos),
      viewColumn: vscode.ViewColumn.One,
      preview: true,
    });
  });
  // After a recording: offer the hottest line of the workspace's own code (once per new profile).
  let offeredFor: Profile | undefined;
  subs.push(
    session.onDidChange(() => {
      const p = session.loaded?.profile;
      if (!p || p === offeredFor || !session.isFreshRecording) return;
      offeredFor = p;
      // Its own task, after the views have drawn the profile: the search walks every stack.
      setImmediate(() => {
        if (session.loaded?.profile !== p) return;
        void goToHottestLine(session, true).catch((e: unknown) => showError(e, log, 'Go to the hottest line'));
      });
    }),
  );
  command('goPerfLens.showViews', 'Show views', () => vscode.commands.executeCommand('workbench.view.extension.goPerfLens'));
  command('goPerfLens.copyFunction', 'Copy as text', async (node?: FunctionNode) => {
    const p = session.current?.profile;
    const fn = node && p?.functions[node.fn];
    if (p && fn) await vscode.env.clipboard.writeText(functionAsText(p, fn));
  });
  command('goPerfLens.revealFunction', 'Reveal function', async (name: string) => {
    await vscode.commands.executeCommand('workbench.view.extension.goPerfLens');
    const node = tree.rootOf(name);
    if (node) await treeView.reveal(node, { select: true, focus: true });
  });

  // GOROOT for mapping standard-library frames; asked once, in the background.
  void execa('go', ['env', 'GOROOT'], { timeout: 10000, reject: false, stdin: 'ignore' }).then((r) => {
    if (!r.failed && r.stdout.trim()) {
      session.goroot = r.stdout.trim();
      session.refresh();
    }
  });
  void session.restore((file) => readProfileInWorker(file, async () => undefined));

  const loadFile = (fsPath: string): void => {
    void readProfileInWorker(fsPath, async () => undefined).then(
      (loaded) => session.set(loaded),
      (e: unknown) => showError(e, log, 'Load session'),
    );
  };
  const testing: GoPerfLensTesting = {
    decorationsFor: (uri) => {
      decorator.redrawAll();
      return decorator.drawnFor(uri);
    },
    hotFunctionRows: () => tree.getChildren().map((n) => row(tree, n)),
    hotFunctionChildren: (name) => {
      const root = tree.rootOf(name);
      return root ? tree.getChildren(root).map((n) => row(tree, n)) : [];
    },
    hotFunctionPath: (names) => {
      let node = tree.getChildren().find((n) => n.name === names[0]) ?? tree.rootOf(names[0] ?? '');
      for (const name of names.slice(1)) node = node && tree.getChildren(node).find((n) => n.name === name);
      return node ? tree.getChildren(node).map((n) => row(tree, n)) : [];
    },
    treeState: () => tree.describeState(),
    treeMessage: () => treeView.message,
    setTreeMode: (mode) => tree.setMode(mode),
    setTreeSort: (sort) => tree.setSort(sort),
    setTreeFilter: (filter) => tree.setFilter(filter),
    setTreeSearch: (text) => tree.setSearch(text),
    hottestOwnLine: () => {
      const t = findHottestOwnLine(session);
      return t && { path: t.path, line1: t.line1 };
    },
    resolveFile: (f) => session.view()?.resolve(f)?.path,
    flameGraphStatus: () => flame.status(),
    persistNow: () => session.persistNow(),
    loadedSamples: () => session.current?.profile.totalSamples,
    metricStatus: () => metricBar.state(),
    lastGoTestRun: () => goTests.last,
  };
  return {
    loadProfile: (profile: Profile, label = 'profile') => session.set({ profile, label }),
    loadSessionFile: loadFile,
    pinBaseline: (profile: Profile | undefined, label = 'baseline') => session.setBaseline(profile && { profile, label }),
    clear: () => session.set(undefined),
    // The test hooks exist only when VS Code runs the extension's tests.
    ...(context.extensionMode === vscode.ExtensionMode.Test ? { testing } : {}),
  };
}

function row(tree: HotFunctionsTree, n: FunctionNode): TreeRow {
  const item = tree.getTreeItem(n);
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  const description = typeof item.description === 'string' ? item.description : '';
  // The tooltip as a hover makes it (VS Code calls resolveTreeItem then).
  const tooltip = tree.resolveTreeItem(item, n).tooltip;
  return {
    name: n.name,
    label,
    description,
    samples: tree.samplesOf(n),
    tooltip: typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''),
  };
}

/** Opens a function's declaration (GOROOT and module-cache files read-only), in `column` when given. */
async function openFunctionSource(session: ProfileSession, name: string, column?: vscode.ViewColumn): Promise<void> {
  const view = session.view();
  const fn = view?.graph.indexOf(name);
  if (!view || fn === undefined) return;
  let loc = view.locate(fn);
  let target = name;
  const isFile = (p: string | undefined): boolean => !!p && !p.startsWith('<');
  for (const wrapped of isFile(loc.path) ? [] : wrappedFunctions(name, view.profile.functions[fn]!.file)) {
    const w = view.graph.indexOf(wrapped);
    const l = w !== undefined ? view.locate(w) : undefined;
    if (l?.path) {
      loc = l;
      target = wrapped;
      break;
    }
    // The wrapped method has no samples of its own: look for its declaration in the files of its package.
    const pkg = parseGoFuncName(wrapped).pkg;
    for (const [i, other] of view.profile.functions.entries()) {
      if (parseGoFuncName(other.name).pkg !== pkg || !other.file) continue;
      const p = view.resolve(other.file)?.path;
      if (!p) continue;
      const decl = findFuncDecl(
        scanFuncDecls(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(p))).toString('utf8')),
        wrapped,
      );
      if (decl !== undefined) {
        loc = { fn: i, path: p, line1: decl };
        target = wrapped;
        break;
      }
    }
    if (loc.path) break;
  }
  if (!loc.path)
    throw new UserError(
      `the source of ${name} is not in this workspace`,
      'add a "goPerfLens.pathMappings" entry from the recorded file name to a local folder',
      'source-not-found',
    );
  const recorded = view.profile.functions[loc.fn]!.file;
  const readOnly = recorded ? view.resolve(recorded)?.readOnly === true : false;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(loc.path));
  const line1 = loc.line1 ?? findFuncDecl(scanFuncDecls(doc.getText()), target) ?? 1;
  const pos = new vscode.Position(Math.max(0, line1 - 1), 0);
  await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(pos, pos),
    preview: true,
    preserveFocus: false,
    ...(column !== undefined ? { viewColumn: column } : {}),
  });
  if (readOnly) await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession');
}

export function deactivate(): void {
  for (const child of launched) child.kill();
  launched.clear();
}

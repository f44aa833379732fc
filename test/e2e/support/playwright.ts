/**
 * Loads playwright-core from the tools folder scripts/setup.sh fills (GPL_TOOLS), so the repo
 * needs no browser tooling in its own dependencies, and declares the small part of its API the
 * tests use (the repo's tsconfig has no DOM lib and no playwright types).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const TOOLS_DIR = process.env.GPL_TOOLS ?? '/var/cache/go-perf-lens';
export const CHROMIUM = process.env.GPL_CHROMIUM ?? '/usr/bin/chromium';
/** The flags verified on this kind of machine (ENVIRONMENT.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Locator {
  click(options?: {
    timeout?: number;
    button?: 'left' | 'right';
    position?: { x: number; y: number };
    force?: boolean;
    modifiers?: ('Control' | 'Meta' | 'Shift' | 'Alt')[];
  }): Promise<void>;
  dblclick(options?: { timeout?: number }): Promise<void>;
  hover(options?: { timeout?: number; position?: { x: number; y: number }; force?: boolean }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  inputValue(options?: { timeout?: number }): Promise<string>;
  press(key: string, options?: { timeout?: number }): Promise<void>;
  focus(options?: { timeout?: number }): Promise<void>;
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  count(): Promise<number>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  innerText(options?: { timeout?: number }): Promise<string>;
  allInnerTexts(): Promise<string[]>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  isVisible(): Promise<boolean>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  locator(selector: string, options?: { hasText?: string | RegExp; has?: Locator }): Locator;
  filter(options: { hasText?: string | RegExp; has?: Locator }): Locator;
  boundingBox(options?: { timeout?: number }): Promise<BoundingBox | null>;
  screenshot(options?: { path?: string; timeout?: number }): Promise<Buffer>;
  evaluate<R>(fn: string | ((el: never) => R)): Promise<R>;
}

export interface ConsoleMessage {
  type(): string;
  text(): string;
}

/** A frame of the page (webviews are nested iframes). */
export interface Frame {
  url(): string;
  locator(selector: string, options?: { hasText?: string | RegExp; has?: Locator }): Locator;
  evaluate<R>(expression: string): Promise<R>;
}

export interface Page {
  frames(): Frame[];
  goto(url: string, options?: { timeout?: number; waitUntil?: 'load' | 'domcontentloaded' | 'commit' }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp; has?: Locator }): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  keyboard: {
    press(key: string): Promise<void>;
    type(text: string, options?: { delay?: number }): Promise<void>;
    insertText(text: string): Promise<void>;
  };
  mouse: { move(x: number, y: number, options?: { steps?: number }): Promise<void>; click(x: number, y: number): Promise<void> };
  screenshot(options?: { path?: string; fullPage?: boolean; timeout?: number }): Promise<Buffer>;
  waitForTimeout(ms: number): Promise<void>;
  evaluate<R>(expression: string): Promise<R>;
  on(event: 'console', listener: (msg: ConsoleMessage) => void): void;
  on(event: 'pageerror', listener: (err: Error) => void): void;
  on(event: 'close' | 'crash', listener: () => void): void;
  setDefaultTimeout(ms: number): void;
  isClosed(): boolean;
  close(): Promise<void>;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number }; deviceScaleFactor?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
  process?(): { pid?: number; kill(signal?: string): boolean } | null;
}
interface BrowserType {
  launch(options: {
    executablePath: string;
    args: string[];
    headless: boolean;
    timeout?: number;
    env?: NodeJS.ProcessEnv;
  }): Promise<Browser>;
  launchPersistentContext(
    userDataDir: string,
    options: {
      executablePath: string;
      args: string[];
      headless: boolean;
      timeout?: number;
      viewport?: { width: number; height: number };
    },
  ): Promise<BrowserContext & { browser(): Browser | null; pages(): Page[] }>;
}
interface PlaywrightCore {
  chromium: BrowserType;
}

let loaded: PlaywrightCore | undefined;

/** playwright-core, or a clear error naming what to run. */
export function playwright(): PlaywrightCore {
  if (loaded) return loaded;
  const dir = path.join(TOOLS_DIR, 'node_modules', 'playwright-core');
  if (!fs.existsSync(dir)) throw new Error(`playwright-core is not installed in ${dir}: run scripts/setup.sh (GPL_TOOLS=${TOOLS_DIR})`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup.sh (it installs Debian's chromium)`);
  // It lives outside the project (a path known at run time), so not an import.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require(dir) as PlaywrightCore;
  return loaded;
}

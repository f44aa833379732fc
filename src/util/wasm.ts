/**
 * The little of WebAssembly's JavaScript API the fast loops use (perf.data samples, callchain
 * groups), which @types/node does not declare; each module compiled once per process.
 * GO_PERF_LENS_NO_WASM=1 turns them all off (the JavaScript paths then do everything).
 */
export interface WasmGlobal { value: number }
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmModule { readonly wasm: unique symbol }

declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
};

const WASM_PAGE = 65536;

const compiled = new Map<string, WasmModule | null>();

/** The module of these base64 bytes, or undefined when WebAssembly is off or unavailable (e.g. node --jitless). */
export function wasmModule(base64: string): WasmModule | undefined {
  if (process.env.GO_PERF_LENS_NO_WASM) return undefined;
  let m = compiled.get(base64);
  if (m === undefined) {
    try {
      m = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    } catch {
      m = null;
    }
    compiled.set(base64, m);
  }
  return m ?? undefined;
}

/** A new instance of a module (no imports); its exports. */
export function instantiate<T>(mod: WasmModule): T {
  return new WebAssembly.Instance(mod, {}).exports as T;
}

/**
 * Memory of a module handed out upward from `top` (growing the memory as needed); a region
 * that must grow is made anew at the top and the old one left: fresh memory is zero.
 */
export class WasmRegions {
  constructor(private readonly memory: WasmMemory, private top: number) {}

  /** `bytes` more (8-aligned); returns where they start. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top += (bytes + 7) & ~7;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / WASM_PAGE));
    return at;
  }

  /**
   * An open-addressing table of `slots` (a power of two) of `slotWords` int32s at the top,
   * holding the entries of the old one (at oldAt, oldSlots of them; oldAt 0: none): word 0 of a
   * slot is 0 when empty, word hashWord holds the entry's hash. Returns where it starts.
   */
  rehash(oldAt: number, oldSlots: number, slots: number, slotWords: number, hashWord: number): number {
    const at = this.alloc(slots * slotWords * 4);
    const t = new Int32Array(this.memory.buffer);
    const mask = slots - 1, base = at >> 2;
    if (oldAt !== 0) {
      for (let s = 0; s < oldSlots; s++) {
        const o = (oldAt >> 2) + s * slotWords;
        if (t[o] === 0) continue;
        let slot = t[o + hashWord]! & mask;
        while (t[base + slot * slotWords] !== 0) slot = (slot + 1) & mask;
        t.copyWithin(base + slot * slotWords, o, o + slotWords);
      }
    }
    return at;
  }
}

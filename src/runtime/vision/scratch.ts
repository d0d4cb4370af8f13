/**
 * A scratch arena: typed work buffers handed out by role name, reused from call to call so a
 * hot path (the embedded swap, per face of every video frame) allocates nothing once warm.
 *
 * `float32(name, n)` / `uint8(name, n)` / `float64(name, n)` / `int32(name, n)` return a view of exactly `n`
 * elements over that role's backing buffer, which grows (to the next power of two) when too
 * small and is otherwise reused. The contents are whatever the last user left there: callers
 * clear what they rely on being zero.
 *
 * A buffer is valid only within ONE synchronous section: the next request for the same role
 * (or the same role again after an `await`, when another task may have run) hands out the same
 * memory. Different roles never share memory, so a section may hold several at once. One arena
 * belongs to one owner (a runtime, a pixel worker): there is no shared, module-level arena.
 */
export class Scratch {
  private readonly f32 = new Map<string, Float32Array>();
  private readonly u8 = new Map<string, Uint8Array>();
  private readonly f64 = new Map<string, Float64Array>();
  private readonly i32 = new Map<string, Int32Array>();
  private created = 0;

  float32(name: string, n: number): Float32Array {
    return view(this.f32, name, n, (size) => this.make(size, Float32Array));
  }

  uint8(name: string, n: number): Uint8Array {
    return view(this.u8, name, n, (size) => this.make(size, Uint8Array));
  }

  float64(name: string, n: number): Float64Array {
    return view(this.f64, name, n, (size) => this.make(size, Float64Array));
  }

  int32(name: string, n: number): Int32Array {
    return view(this.i32, name, n, (size) => this.make(size, Int32Array));
  }

  /**
   * How many backing buffers this arena has allocated since it was made (kept or not): a hot
   * path that reuses its buffers leaves it unchanged from one call to the next (for tests).
   */
  get allocations(): number {
    return this.created;
  }

  private make<T>(size: number, type: new (size: number) => T): T {
    this.created++;
    return new type(size);
  }

  /** Bytes held by all roles (for tests and diagnostics). */
  bytes(): number {
    let total = 0;
    for (const map of [this.f32, this.u8, this.f64, this.i32] as Map<string, { byteLength: number }>[]) for (const b of map.values()) total += b.byteLength;
    return total;
  }

  /** Drops every buffer (the memory goes back to the GC). */
  clear(): void {
    this.f32.clear();
    this.u8.clear();
    this.f64.clear();
    this.i32.clear();
  }
}

/**
 * A role's buffer is kept only up to this many bytes: a face of a 4K frame gets fresh buffers
 * instead of pinning tens of MB outside the frame store's budget until the runtime closes
 * (720p faces need ≈ 1.3 MB in all).
 */
const MAX_KEPT_BYTES = 8 << 20;

function view<T extends Float32Array | Uint8Array | Float64Array | Int32Array>(map: Map<string, T>, name: string, n: number, make: (size: number) => T): T {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`scratch ${name}: size must be a whole number ≥ 0, got ${n}`);
  let backing = map.get(name);
  if (!backing || backing.length < n) {
    backing = make(n <= 16 ? 16 : 2 ** Math.ceil(Math.log2(n)));
    if (backing.byteLength > MAX_KEPT_BYTES) return backing.subarray(0, n) as T;
    map.set(name, backing);
  }
  return backing.subarray(0, n) as T;
}

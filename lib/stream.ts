/**
 * Streams and events. Waiting (`synchronize`) returns a promise resolved from
 * a dedicated native thread: it never blocks the event loop and never
 * occupies a libuv thread-pool slot.
 */
import { native } from './binding.js';
import { defaultNativeStream, resolveDevice } from './device.js';
import { WarpforgeError } from './errors.js';
import type { NativeEvent, NativeStream } from './native.js';
import { expect } from './validate.js';

const adopt = Symbol('adopt');
const defaults = new Map<number, Stream>();

export class Stream {
  readonly device: number;
  #native: NativeStream | null;

  /** A new non-blocking stream on `device` (default 0). Lower priority numbers run first. */
  constructor(opts: { device?: number; priority?: number; [adopt]?: NativeStream } = {}) {
    this.device = resolveDevice(opts.device);
    this.#native = opts[adopt] ?? native().createStream(this.device, opts.priority ?? 0);
  }

  /** The device's default stream, which ops use when given none. */
  static default(device?: number): Stream {
    const d = resolveDevice(device);
    let s = defaults.get(d);
    if (!s) {
      s = new Stream({ device: d, [adopt]: defaultNativeStream(d) });
      defaults.set(d, s);
    }
    return s;
  }

  /** @internal */
  get native(): NativeStream {
    if (!this.#native) throw new WarpforgeError('ERR_DISPOSED', 'expected a live stream but received a destroyed one');
    return this.#native;
  }

  /** Resolves once all work queued so far has finished. */
  synchronize(): Promise<void> {
    return this.native.synchronize();
  }

  /** True when all queued work has finished. */
  query(): boolean {
    return this.native.query();
  }

  /** Makes later work on this stream wait for `event` (no host blocking). */
  waitEvent(event: Event): void {
    expect(event instanceof Event, 'ERR_INVALID_ARGUMENT', 'stream.waitEvent(event)', 'an Event', event);
    expect(event.device === this.device, 'ERR_DEVICE', 'stream.waitEvent(event)', `an event on device ${this.device}`, event.device);
    this.native.waitEvent(event.native);
  }

  /** Records a new event on this stream and returns it. */
  record(opts: { timing?: boolean } = {}): Event {
    const e = new Event({ device: this.device, timing: opts.timing });
    e.record(this);
    return e;
  }

  /** Queued work still completes; tensors allocated on it keep it alive. */
  destroy(): void {
    if (defaults.get(this.device) === this) return; // the default stream lives as long as the process
    this.#native?.destroy();
    this.#native = null;
  }

  [Symbol.dispose](): void {
    this.destroy();
  }

  describe(): string {
    return `a Stream on device ${this.device}`;
  }
}

export class Event {
  readonly device: number;
  #native: NativeEvent | null;

  constructor(opts: { device?: number; timing?: boolean } = {}) {
    this.device = resolveDevice(opts.device);
    this.#native = native().createEvent(this.device, opts.timing ?? true);
  }

  /** @internal */
  get native(): NativeEvent {
    if (!this.#native) throw new WarpforgeError('ERR_DISPOSED', 'expected a live event but received a destroyed one');
    return this.#native;
  }

  record(stream?: Stream): this {
    const s = stream ?? Stream.default(this.device);
    expect(s instanceof Stream, 'ERR_INVALID_ARGUMENT', 'event.record(stream)', 'a Stream', s);
    expect(s.device === this.device, 'ERR_DEVICE', 'event.record(stream)', `a stream on device ${this.device}`, s.device);
    this.native.record(s.native);
    return this;
  }

  synchronize(): Promise<void> {
    return this.native.synchronize();
  }

  query(): boolean {
    return this.native.query();
  }

  /** Milliseconds from `start` to this event; both must have completed. */
  elapsedSince(start: Event): number {
    expect(start instanceof Event, 'ERR_INVALID_ARGUMENT', 'event.elapsedSince(start)', 'an Event', start);
    return this.native.elapsed(start.native);
  }

  destroy(): void {
    this.#native?.destroy();
    this.#native = null;
  }

  [Symbol.dispose](): void {
    this.destroy();
  }

  describe(): string {
    return `an Event on device ${this.device}`;
  }
}

/** The native stream an op should run on, after checking it matches `device`. */
export function streamFor(stream: unknown, device: number, what = 'options.stream'): NativeStream {
  if (stream === undefined) return defaultNativeStream(device);
  expect(stream instanceof Stream, 'ERR_INVALID_ARGUMENT', what, 'a Stream', stream);
  expect(stream.device === device, 'ERR_DEVICE', what, `a stream on device ${device}`, `\u0000a stream on device ${stream.device}`);
  return stream.native;
}

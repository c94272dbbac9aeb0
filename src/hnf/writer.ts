/**
 * Streaming HNFv9.1 writer. Data goes to a temporary file beside the target, which is renamed
 * into place only when everything, checksums and manifest included, is written; any failure or
 * {@link HnfWriter.abort} removes it.
 *
 * @module
 */
import { assertInternal, HeliosError } from "../errors.ts";
import { createXxh3, headerCrc, manifestCheck, type Xxh3 } from "./checksum.ts";
import {
  BLOCK_NAMES,
  dtypeByteSize,
  HNF_ALIGN,
  HNF_BLOCK_COUNT,
  HNF_DATA_START,
  HNF_MANIFEST_VERSION,
  numelOf,
} from "./constants.ts";
import { encodeHeaderAndTable, type HnfBlockEntry } from "./header.ts";
import { encodeManifest, type ManifestTensor } from "./manifest.ts";

/** Pieces of at least this many bytes are written directly instead of through the buffer. */
const DIRECT_BYTES = 1 << 20;

/** Options of {@link HnfWriter.create}. */
export interface HnfWriterOptions {
  /** Replace an existing output file. */
  force?: boolean;
  /** Size of the write buffer in bytes (default 8 MiB). */
  bufferBytes?: number;
  /**
   * Flush the file to the disk (`fdatasync`) before renaming it into place, so that a power
   * loss or an OS crash right after the conversion cannot leave a renamed but incomplete file
   * (default false: like `cp` and other converters, the page cache writes it back; a signal, a
   * full disk or any error still leaves nothing behind, and `inspect` detects a torn file).
   */
  sync?: boolean;
}

/** A tensor about to be written. */
export interface TensorHeader {
  /** Final name. */
  name: string;
  /** Dtype string. */
  dtype: string;
  /** Original shape. */
  shape: number[];
  /** Flat extra manifest keys. */
  extra?: Record<string, string | number | boolean>;
}

const ZEROS = new Uint8Array(HNF_ALIGN);

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Writes an HNF file block by block.
 *
 * @example
 * ```ts ignore
 * import { HnfWriter } from "./writer.ts";
 * const w = await HnfWriter.create("out.hnf", { force: true });
 * await w.beginBlock(0);
 * await w.beginTensor({ name: "text.w", dtype: "fp16", shape: [2] });
 * await w.write(new Uint8Array(4));
 * await w.endTensor();
 * await w.finish({ flags: 0, manifest: {} });
 * ```
 */
export class HnfWriter {
  /** Final path. */
  readonly path: string;
  /** Temporary path written until {@link HnfWriter.finish}. */
  readonly tempPath: string;
  #file: Deno.FsFile;
  #pos = HNF_DATA_START;
  #buf: Uint8Array;
  #spare: Uint8Array;
  #bufLen = 0;
  #pending: Promise<void> | null = null;
  #blocks: HnfBlockEntry[] = [];
  #tensors: ManifestTensor[] = [];
  #block = -1;
  #blockStart = 0;
  #dense = false;
  #hash: Xxh3 | null = null;
  #tensor: (TensorHeader & { offset: number; size: number; written: number }) | null = null;
  #done = false;
  #hashMs = 0;
  #sync: boolean;

  private constructor(
    path: string,
    tempPath: string,
    file: Deno.FsFile,
    bufferBytes: number,
    sync: boolean,
  ) {
    this.path = path;
    this.tempPath = tempPath;
    this.#file = file;
    this.#sync = sync;
    this.#buf = new Uint8Array(bufferBytes);
    this.#spare = new Uint8Array(bufferBytes);
  }

  /** Opens a temporary file beside `path` and reserves the header and table. */
  static async create(path: string, options: HnfWriterOptions = {}): Promise<HnfWriter> {
    if (!options.force) {
      let exists = false;
      try {
        await Deno.lstat(path);
        exists = true;
      } catch { /* does not exist */ }
      if (exists) {
        throw new HeliosError(
          "OUTPUT_EXISTS",
          `${path} already exists (use --force to replace it)`,
        );
      }
    }
    const slash = path.lastIndexOf("/");
    const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
    const base = slash >= 0 ? path.slice(slash + 1) : path;
    const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
    const tempPath = `${dir}/.${base}.${Deno.pid}.${rand}.tmp`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(tempPath, { write: true, createNew: true, read: true });
    } catch (e) {
      throw new HeliosError("IO", `Cannot create ${tempPath}: ${(e as Error).message}`);
    }
    const w = new HnfWriter(
      path,
      tempPath,
      file,
      options.bufferBytes ?? 8 << 20,
      options.sync ?? false,
    );
    // Placeholder header and table, rewritten by finish().
    await w.#writeRaw(new Uint8Array(HNF_DATA_START));
    w.#pos = HNF_DATA_START;
    return w;
  }

  /** Current absolute write position. */
  get position(): number {
    return this.#pos;
  }

  /** Starts writing the buffer in the background (one write in flight) and swaps buffers. */
  async #flush(): Promise<void> {
    if (this.#bufLen === 0) return;
    await this.#drain();
    const full = this.#buf.subarray(0, this.#bufLen);
    this.#pending = this.#writeRaw(full);
    this.#pending.catch(() => {}); // observed by #drain
    [this.#buf, this.#spare] = [this.#spare, this.#buf];
    this.#bufLen = 0;
  }

  async #drain(): Promise<void> {
    const p = this.#pending;
    this.#pending = null;
    if (p) await p;
  }

  async #writeRaw(bytes: Uint8Array): Promise<void> {
    let off = 0;
    try {
      while (off < bytes.length) off += await this.#file.write(bytes.subarray(off));
    } catch (e) {
      throw new HeliosError("IO", `Writing ${this.tempPath} failed: ${(e as Error).message}`);
    }
  }

  /** Milliseconds spent hashing block data so far (for the conversion's timings). */
  get hashMs(): number {
    return this.#hashMs;
  }

  async #put(bytes: Uint8Array): Promise<void> {
    const t0 = performance.now();
    this.#hash?.update(bytes);
    this.#hashMs += performance.now() - t0;
    this.#pos += bytes.length;
    // Large pieces (a converted chunk) go to the file as they are: copying them into the
    // buffer first cost a memcpy of the whole model.
    if (bytes.length >= Math.min(DIRECT_BYTES, this.#buf.length)) {
      await this.#flush();
      await this.#drain();
      await this.#writeRaw(bytes);
      return;
    }
    if (this.#bufLen + bytes.length > this.#buf.length) await this.#flush();
    this.#buf.set(bytes, this.#bufLen);
    this.#bufLen += bytes.length;
  }

  async #pad(): Promise<void> {
    const target = alignUp(this.#pos, HNF_ALIGN);
    if (target > this.#pos) await this.#put(ZEROS.subarray(0, target - this.#pos));
  }

  #check(): void {
    assertInternal(!this.#done, "writer already finished");
  }

  /**
   * Starts block `id` at the next 32-byte boundary. In a `dense` block tensors follow each
   * other without padding, so the block size is the sum of the tensor sizes (what the Gemma 4
   * vision validator requires, runtime contract §5.6); elsewhere each tensor starts 32-aligned.
   */
  async beginBlock(id: number, options: { dense?: boolean } = {}): Promise<void> {
    this.#check();
    if (this.#block >= 0) await this.endBlock();
    if (id < 0 || id >= HNF_BLOCK_COUNT || this.#blocks[id]) {
      throw new HeliosError(
        "INTERNAL",
        `Internal error: block ${id} is invalid or already written`,
      );
    }
    await this.#pad();
    this.#block = id;
    this.#blockStart = this.#pos;
    this.#dense = options.dense ?? false;
    this.#hash = createXxh3();
  }

  /** Ends the current block and records its table entry. */
  endBlock(): Promise<void> {
    if (this.#block < 0) return Promise.resolve();
    assertInternal(!this.#tensor, "tensor still open");
    const size = this.#pos - this.#blockStart;
    this.#blocks[this.#block] = {
      id: this.#block,
      type: this.#block,
      offset: size > 0 ? this.#blockStart : 0,
      size,
      checksum: size > 0 ? this.#hash!.digest() : 0n,
    };
    this.#hash = null;
    this.#block = -1;
    return Promise.resolve();
  }

  /** Starts a tensor of the current block at the next 32-byte boundary (unless dense). */
  async beginTensor(t: TensorHeader): Promise<void> {
    this.#check();
    assertInternal(this.#block >= 0, "no block open");
    assertInternal(!this.#tensor, "tensor still open");
    const size = dtypeByteSize(t.dtype, numelOf(t.shape));
    assertInternal(size !== undefined, `dtype ${t.dtype}`);
    if (!this.#dense) await this.#pad();
    this.#tensor = { ...t, offset: this.#pos, size, written: 0 };
  }

  /**
   * Appends payload bytes to the open tensor. `bytes` must not change until the returned
   * promise settles (large pieces are written from it directly).
   */
  async write(bytes: Uint8Array): Promise<void> {
    const t = this.#tensor;
    assertInternal(t, "no tensor open");
    if (t.written + bytes.length > t.size) {
      throw new HeliosError(
        "INTERNAL",
        `Internal error: tensor '${t.name}' payload exceeds ${t.size} bytes`,
      );
    }
    t.written += bytes.length;
    await this.#put(bytes);
  }

  /** Closes the open tensor, checking its size. */
  endTensor(): Promise<void> {
    const t = this.#tensor;
    assertInternal(t, "no tensor open");
    assertInternal(t.written === t.size, `tensor '${t.name}' got ${t.written} of ${t.size} bytes`);
    this.#tensors.push({
      name: t.name,
      block: BLOCK_NAMES[this.#block],
      offset: t.offset,
      size: t.size,
      dtype: t.dtype,
      shape: t.shape,
      extra: t.extra,
    });
    this.#tensor = null;
    return Promise.resolve();
  }

  /** Writes a whole non-tensor block (hints, tokenizer) in one piece. */
  async writeBlock(id: number, bytes: Uint8Array): Promise<void> {
    await this.beginBlock(id);
    await this.#put(bytes);
    await this.endBlock();
  }

  /**
   * Writes the manifest, then the final header and table, and renames the file into place.
   * `manifest` holds the top-level keys other than `tensors`; `format`, `version` are added.
   */
  async finish(opts: { flags: number; manifest: Record<string, unknown> }): Promise<void> {
    this.#check();
    await this.endBlock();
    await this.#pad();
    const manifestOffset = this.#pos;
    const text = encodeManifest(this.#tensors, {
      format: "HNFv9",
      version: HNF_MANIFEST_VERSION,
      ...opts.manifest,
    });
    const bytes = new TextEncoder().encode(text);
    await this.#put(bytes);
    await this.#flush();
    await this.#drain();
    const fileSize = this.#pos;
    const blocks: HnfBlockEntry[] = [];
    for (let i = 0; i < HNF_BLOCK_COUNT; i++) {
      blocks.push(this.#blocks[i] ?? { id: i, type: i, offset: 0, size: 0, checksum: 0n });
    }
    const pre = encodeHeaderAndTable(
      { flags: 0, manifestOffset: 0, manifestSize: 0, fileSize: 0, checksum: 0 },
      blocks,
    );
    const header = {
      flags: opts.flags,
      manifestOffset,
      manifestSize: bytes.length,
      fileSize,
      checksum: headerCrc(pre),
    };
    // The manifest checksum covers the header up to the CRC, so it is computed from that.
    const check = manifestCheck(encodeHeaderAndTable(header, blocks), bytes);
    const final = encodeHeaderAndTable({ ...header, manifestCheck: check }, blocks);
    try {
      await this.#file.seek(0, Deno.SeekMode.Start);
      await this.#writeRaw(final);
      if (this.#sync) await this.#file.syncData();
      this.#file.close();
      this.#done = true;
      await Deno.rename(this.tempPath, this.path);
    } catch (e) {
      await this.abort();
      if (e instanceof HeliosError) throw e;
      throw new HeliosError("IO", `Finishing ${this.path} failed: ${(e as Error).message}`);
    }
  }

  /** Abandons the file: closes and removes the temporary file. Safe to call twice. */
  async abort(): Promise<void> {
    await this.#drain().catch(() => {});
    if (!this.#done) {
      this.#done = true;
      try {
        this.#file.close();
      } catch { /* already closed */ }
    }
    try {
      await Deno.remove(this.tempPath);
    } catch { /* already gone or renamed */ }
  }

  /** Tensors written so far, as they will appear in the manifest. */
  get tensors(): readonly ManifestTensor[] {
    return this.#tensors;
  }
}

/**
 * The memory layout of the compact search's WebAssembly module (byte offsets): results at 0…63,
 * the block's values (f64 and f32), the lattices, the model points, the current codes, the
 * element codes, the refit sums, and from the second 64 KiB page on a batch of input values.
 * The memory never grows, so views stay valid.
 *
 * @module
 */

/** Byte offset of the block's values (256 × f64) in the module's memory. */
export const XB_BYTE: number = 64;
/** Byte offset of the min lattice (256 × f64). */
export const MINS_BYTE: number = XB_BYTE + 256 * 8;
/** Most model points per group. */
export const MAX_POINTS: number = 32;
/** Byte offset of the model points' lattice starts (32 groups × 32 × f64). */
export const PT_POS_BYTE: number = MINS_BYTE + 256 * 8;
/** Byte offset of the model points' errors (32 groups × 32 × f64). */
export const PT_ERR_BYTE: number = PT_POS_BYTE + 32 * MAX_POINTS * 8;
/** Byte offset of the point counts (32 × u8; each group's list padded to an even length). */
export const N_PTS_BYTE: number = PT_ERR_BYTE + 32 * MAX_POINTS * 8;
/** Byte offset of the block's values as f32 (256 × f32), for {@link bestCandidate}. */
export const XB32_BYTE: number = N_PTS_BYTE + 64;
/** Byte offset of the groups' minima (32 × f64). */
export const G_MIN_BYTE: number = XB32_BYTE + 256 * 4;
/** Byte offset of the groups' maxima (32 × f64). */
export const G_MAX_BYTE: number = G_MIN_BYTE + 32 * 8;
/** Byte offset of the step lattice (256 × f64). */
export const STEPS_BYTE: number = G_MAX_BYTE + 32 * 8;
/** Byte offset of the model points' q_scale codes (32 groups × 32 × u8). */
export const PT_K_BYTE: number = STEPS_BYTE + 256 * 8;
/** Byte offset of the groups' current q_scale codes (32 × u8). */
export const CUR_K_BYTE: number = PT_K_BYTE + 32 * MAX_POINTS;
/** Byte offset of the groups' current q_min codes (32 × u8). */
export const CUR_J_BYTE: number = CUR_K_BYTE + 32;
/**
 * Byte offset of two f64 the points kernel leaves: the highest of the groups' lowest points and
 * the lowest of their highest points (the span the min grid must cover).
 */
export const PT_COVER_BYTE: number = CUR_J_BYTE + 32;
/** Byte offset of the element codes {@link exactWasm} writes for the chosen parameters (256 × u8). */
export const CODES_BYTE: number = PT_COVER_BYTE + 16;
/** Byte offset of the element codes of the fast path's parameters (256 × u8). */
export const FAST_CODES_BYTE: number = CODES_BYTE + 256;
/** Byte offset of the nine least-squares sums {@link refitSums} leaves (9 × f64). */
export const REFIT_BYTE: number = FAST_CODES_BYTE + 256;
/**
 * Most candidates in one group's list: the warm start and MAX_K × MAX_J window codes of the
 * search (1 + 8 × 12), or two per model point (2 × MAX_POINTS), with room for the 16-byte
 * stores and the padding of the list's last four.
 */
export const CAND_CAP: number = 128;
/** Byte offset of the candidates' lattice starts (CAND_CAP × f32, 16-byte aligned). */
export const CAND_M_BYTE: number = (REFIT_BYTE + 9 * 8 + 15) & ~15;
/** Byte offset of the candidates' lattice steps (CAND_CAP × f32). */
export const CAND_S_BYTE: number = CAND_M_BYTE + CAND_CAP * 4;
/** Byte offset of the candidates' inverse steps (CAND_CAP × f32; 0 for a zero step). */
export const CAND_I_BYTE: number = CAND_S_BYTE + CAND_CAP * 4;
/** Byte offset of the candidates' q_scale codes (CAND_CAP × u8). */
export const CAND_K_BYTE: number = CAND_I_BYTE + CAND_CAP * 4;
/** Byte offset of the candidates' q_min codes (CAND_CAP × u8). */
export const CAND_J_BYTE: number = CAND_K_BYTE + CAND_CAP;
/** Byte offset of the bytes 0, 1, …, 15 (written when the module is instantiated). */
export const IOTA_BYTE: number = CAND_J_BYTE + CAND_CAP;
/** Byte offset of the f32 values 0, 1, 2, 3 (written when the module is instantiated). */
export const IOTA4_BYTE: number = IOTA_BYTE + 16;
/**
 * Byte offset of the min lattice as f32 (256 entries and 4 of padding, 16-byte aligned), which
 * the window search fills from the f64 one for its candidates' lattice starts.
 */
export const MINS32_BYTE: number = (IOTA4_BYTE + 16 + 15) & ~15;
/**
 * Byte offset of the search's saved group codes, 32 × u8 each: the fast path's q_scale and q_min
 * codes, then the best candidate's.
 */
export const SAVED_BYTE: number = MINS32_BYTE + 260 * 4;
/**
 * Byte offset of the search's tuning (f64 each): qMax, codeMax, model (0 / 1), refits, span, most
 * q_scale codes, most q_min codes, model α, model window, model shift, slack (in min-grid
 * steps²), the number of d_min scalings and three of them, the number of phases and two of them.
 */
export const CFG_BYTE: number = SAVED_BYTE + 4 * 32;
/**
 * Byte offsets of the window search's tables per q_scale code k (filled per call from the steps):
 * the span qMax·step, half a step and the inverse step (0 for a zero step) as f64, each for 256
 * codes and a pair's reach past the last…
 */
export const K_SPAN_BYTE: number = CFG_BYTE + 18 * 8;
/** … half a step (f64) … */
export const K_HS_BYTE: number = K_SPAN_BYTE + 258 * 8;
/** … the inverse step (f64) … */
export const K_IV_BYTE: number = K_HS_BYTE + 258 * 8;
/** … and the step and its inverse as f32, as the candidates store them. */
export const K_S32_BYTE: number = K_IV_BYTE + 258 * 8;
/** The f32 inverse steps (see {@link K_S32_BYTE}). */
export const K_IV32_BYTE: number = K_S32_BYTE + 260 * 4;
/**
 * Byte offset of an i32 flag: 1 when the module's f32x4.relaxed_madd is a fused multiply-add on
 * this machine (set on instantiation from a probe), so that the exact decode can use it.
 */
export const FUSED_BYTE: number = K_IV32_BYTE + 260 * 4;
/** Byte offset of a batch of input values (f32), from the second 64 KiB page on. */
export const XIN_BYTE: number = 65536;
/** Super-blocks the input batch at {@link XIN_BYTE} holds, and the batch of results. */
export const XIN_BLOCKS: number = 1024;
/** Byte offset of the f16 decode table (65 536 × f32), after the input batch. */
export const F16_TABLE_BYTE: number = XIN_BYTE + XIN_BLOCKS * 1024;
/** Byte offset of the batch's element codes (256 × u8 per super-block). */
export const OUT_CODES_BYTE: number = F16_TABLE_BYTE + 65536 * 4;
/** Byte offset of the batch's q_scale codes (32 × u8 per super-block). */
export const OUT_K_BYTE: number = OUT_CODES_BYTE + XIN_BLOCKS * 256;
/** Byte offset of the batch's q_min codes (32 × u8 per super-block). */
export const OUT_J_BYTE: number = OUT_K_BYTE + XIN_BLOCKS * 32;
/** Byte offset of the batch's f16 globals (d_scale, d_min, min_base: u16 each per super-block). */
export const OUT_BITS_BYTE: number = OUT_J_BYTE + XIN_BLOCKS * 32;
/** Byte offset of the batch's squared errors (f64 per super-block). */
export const OUT_ERR_BYTE: number = OUT_BITS_BYTE + XIN_BLOCKS * 6;
/** 64 KiB pages of the module's memory. */
export const COMPACT_PAGES: number = Math.ceil((OUT_ERR_BYTE + XIN_BLOCKS * 8) / 65536);

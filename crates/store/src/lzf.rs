//! LZF compression, format-compatible with liblzf 3.6 (the copy vendored in
//! Redis as `lzf_c.c`/`lzf_d.c`): what Redis uses for quicklist nodes
//! (`list-compress-depth`) and for strings in RDB files and `DUMP` payloads
//! (`rdbcompression`). Here it compresses interior list chunks
//! (`kinds::list`); it lives apart from them so that RDB code can use it.
//!
//! # Format
//!
//! A stream of runs, each starting with a control byte:
//!
//! * `000LLLLL` then `L + 1` literal bytes (1..=32);
//! * `LLLooooo oooooooo`: copy `L + 2` bytes (3..=8) from `o + 1` bytes
//!   back (1..=8192) in the output;
//! * `111ooooo LLLLLLLL oooooooo`: copy `L + 9` bytes (9..=264) from
//!   `o + 1` back.
//!
//! A back reference may overlap the bytes it produces (a run of one
//! repeated byte is a reference one byte back).
//!
//! # Compatibility
//!
//! [`decompress`] accepts every stream liblzf's `lzf_compress` produces and
//! rejects malformed ones with an error (never reads or writes out of
//! bounds). [`compress`] is liblzf's algorithm at its default settings
//! (`VERY_FAST`, three-byte hash of the next bytes, the same control-byte
//! layout and the same limits), so liblzf's `lzf_decompress` reads its
//! output; byte-for-byte equality with liblzf's output is not promised
//! (Redis's build does not even initialise the hash table, so its own
//! output depends on stack contents), and nothing relies on it. The hash
//! table (`HASH_LOG` bits, a format-neutral choice) is kept per thread and
//! invalidated between calls by a generation offset instead of being
//! cleared, so compressing a small buffer costs no table reset.
//!
//! The test vectors in this module were produced by redis-server 7.0.15
//! (`DUMP` of strings, whose payload holds liblzf's output): they
//! decompress here, and this compressor produces the same bytes for them.
//! Not done yet: a live test against redis-server in both directions
//! (`RESTORE` of payloads compressed here), which needs RDB payload
//! encoding (CRC64) from the RDB work.

use std::cell::RefCell;

/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference (distance).
const MAX_OFF: usize = 1 << 13;
/// Longest back reference, minus two (liblzf's `MAX_REF`).
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Bits of the compressor's hash table (liblzf's default `HLOG` is 16; the
/// format does not depend on it, and 14 suits inputs of a few KiB).
const HASH_LOG: u32 = 14;
const HASH_SIZE: usize = 1 << HASH_LOG;

/// Why [`decompress`] failed (liblzf's `E2BIG` and `EINVAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LzfError {
    /// The output would be longer than the length given.
    #[error("lzf: output longer than expected")]
    OutputTooLong,
    /// A run is cut short or a reference points before the output.
    #[error("lzf: corrupt input")]
    Corrupt,
}

/// The compressor's hash table: positions plus a per-call base, so a slot
/// written by an earlier call reads as empty without clearing the table.
struct HashTable {
    slots: Vec<u32>,
    /// Added to every position of the current call; slots below it are
    /// stale.
    base: u32,
}

thread_local! {
    static TABLE: RefCell<HashTable> = const {
        RefCell::new(HashTable { slots: Vec::new(), base: 1 })
    };
}

fn first(input: &[u8], at: usize) -> u32 {
    (u32::from(input[at]) << 8) | u32::from(input[at + 1])
}

fn next(hval: u32, input: &[u8], at: usize) -> u32 {
    (hval << 8) | u32::from(input[at + 2])
}

/// liblzf's `VERY_FAST` hash of three bytes.
fn index(hval: u32) -> usize {
    ((hval >> (3 * 8 - HASH_LOG)).wrapping_sub(hval.wrapping_mul(5)) as usize) & (HASH_SIZE - 1)
}

/// Compresses `input` into `out` (replacing its contents) if the result
/// fits in `max_out` bytes; returns the compressed length, or `None` when
/// it does not fit (or `input` is empty), as `lzf_compress` returns 0.
/// Redis calls it with `max_out` = the input's length, keeping the result
/// only when it saves enough.
pub fn compress(input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
    out.clear();
    if input.is_empty() || max_out == 0 {
        return None;
    }
    // Inputs longer than u32 would overflow the positions: never the case
    // for a list chunk; RDB strings are cut into chunks by the caller.
    if input.len() >= (u32::MAX / 2) as usize {
        return None;
    }
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        if table.slots.is_empty() {
            table.slots = vec![0; HASH_SIZE];
        }
        let span = input.len() as u32 + 1;
        if table.base.checked_add(span).is_none() {
            table.slots.iter_mut().for_each(|s| *s = 0);
            table.base = 1;
        }
        let base = table.base;
        table.base += span;
        compress_with(input, out, max_out, &mut table.slots, base)
    })
}

/// The compressor proper: `slots` hold `position + base` of the latest
/// three-byte prefix with that hash, anything below `base` being stale.
fn compress_with(
    input: &[u8],
    out: &mut Vec<u8>,
    max_out: usize,
    slots: &mut [u32],
    base: u32,
) -> Option<usize> {
    let in_len = input.len();
    out.reserve(max_out.min(in_len + in_len / 16 + 64));
    // `lit_at` is where the current literal run's control byte goes.
    let mut lit = 0usize;
    let mut lit_at = 0usize;
    out.push(0);
    let mut ip = 0usize;
    if in_len >= 2 {
        let mut hval = first(input, 0);
        while ip + 2 < in_len {
            hval = next(hval, input, ip);
            let slot = &mut slots[index(hval)];
            let candidate = *slot;
            *slot = ip as u32 + base;
            let reference = (candidate >= base).then(|| (candidate - base) as usize);
            let found = reference.filter(|&r| {
                r < ip
                    && ip - r - 1 < MAX_OFF
                    && r > 0
                    && input[r + 2] == input[ip + 2]
                    && input[r] == input[ip]
                    && input[r + 1] == input[ip + 1]
            });
            if let Some(r) = found {
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                // The reference's control bytes (at most 3) and the next
                // run's control byte must fit.
                let lit_bytes = usize::from(lit == 0);
                if out.len() - lit_bytes + 3 + 1 >= max_out {
                    return None;
                }
                out[lit_at] = (lit as u8).wrapping_sub(1);
                if lit == 0 {
                    out.pop();
                }
                loop {
                    len += 1;
                    if len >= maxlen || input[r + len] != input[ip + len] {
                        break;
                    }
                }
                len -= 2; // octets - 1
                ip += 1;
                if len < 7 {
                    out.push(((off >> 8) + (len << 5)) as u8);
                } else {
                    out.push(((off >> 8) + (7 << 5)) as u8);
                    out.push((len - 7) as u8);
                }
                out.push(off as u8);
                lit = 0;
                lit_at = out.len();
                out.push(0);
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                // VERY_FAST: hash the last two positions of the match.
                ip -= 2;
                hval = first(input, ip);
                for _ in 0..2 {
                    hval = next(hval, input, ip);
                    slots[index(hval)] = ip as u32 + base;
                    ip += 1;
                }
            } else {
                if out.len() >= max_out {
                    return None;
                }
                push_literal(out, &mut lit, &mut lit_at, input[ip]);
                ip += 1;
            }
        }
    }
    if out.len() + 3 > max_out {
        return None;
    }
    while ip < in_len {
        push_literal(out, &mut lit, &mut lit_at, input[ip]);
        ip += 1;
    }
    out[lit_at] = (lit as u8).wrapping_sub(1);
    if lit == 0 {
        out.pop();
    }
    if out.len() > max_out {
        return None;
    }
    Some(out.len())
}

/// Appends one literal byte to the run whose control byte is at `lit_at`;
/// a run that reaches [`MAX_LIT`] bytes is closed (its control byte set)
/// and a new one opened after it, as liblzf's compressor does.
fn push_literal(out: &mut Vec<u8>, lit: &mut usize, lit_at: &mut usize, byte: u8) {
    *lit += 1;
    out.push(byte);
    if *lit == MAX_LIT {
        out[*lit_at] = (MAX_LIT - 1) as u8;
        *lit = 0;
        *lit_at = out.len();
        out.push(0);
    }
}
/// Decompresses `input` (one whole LZF stream) and appends the result to
/// `out`; the output may not exceed `max_len` bytes. Returns the number of
/// bytes appended.
pub fn decompress(input: &[u8], out: &mut Vec<u8>, max_len: usize) -> Result<usize, LzfError> {
    let start = out.len();
    out.reserve(max_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < MAX_LIT {
            let len = ctrl + 1;
            if out.len() - start + len > max_len {
                return Err(LzfError::OutputTooLong);
            }
            let run = input.get(ip..ip + len).ok_or(LzfError::Corrupt)?;
            out.extend_from_slice(run);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or(LzfError::Corrupt)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or(LzfError::Corrupt)?);
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            len += 2;
            let produced = out.len() - start;
            if produced + len > max_len {
                return Err(LzfError::OutputTooLong);
            }
            if back > produced {
                return Err(LzfError::Corrupt);
            }
            let from = out.len() - back;
            if back >= len {
                out.extend_from_within(from..from + len);
            } else {
                for i in 0..len {
                    let byte = out[from + i];
                    out.push(byte);
                }
            }
        }
    }
    Ok(out.len() - start)
}

/// `len` bytes of xorshift64 output from `seed`: data LZF cannot shrink,
/// for tests here and of compressed list chunks.
#[cfg(test)]
pub(crate) fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(input: &[u8]) -> Option<usize> {
        let mut packed = Vec::new();
        let size = compress(input, &mut packed, input.len() + input.len() / 16 + 64)?;
        assert_eq!(size, packed.len());
        let mut back = vec![b'?'; 3];
        assert_eq!(decompress(&packed, &mut back, input.len()), Ok(input.len()));
        assert_eq!(&back[3..], input, "appends after what was there");
        Some(size)
    }

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `DUMP` of `user:event:0` .. `user:event:99` concatenated (1290 bytes).
    const REDIS_EVENTS_1290: &str = concat!(
        "0c757365723a6576656e743a3075e0010b0031e0020b0032e0020b0033e0020b0034e0020b0035e0020b0036",
        "e0020b0037e0020b0038e0020b0039e0020b0031e00478e003790031e0037a0031e0037b0031e0037c0031e0",
        "037d0031e0037e0031e0037f0031e003800031e003810032e003810032e003810032e003810032e003810032",
        "e003810032e003810032e003810032e003810032e003810032e003810033e003810033e003810033e0038100",
        "33e003810033e003810033e003810033e003810033e003810033e003810033e003810034e003810034e00381",
        "0034e003810034e003810034e003810034e003810034e003810034e003810034e003810034e003810035e003",
        "810035e003810035e003810035e003810035e003810035e003810035e003810035e003810035e003810035e0",
        "03810036e003810036e003810036e003810036e003810036e003810036e003810036e003810036e003810036",
        "e003810036e003810037e003810037e003810037e003810037e003810037e003810037e003810037e0038100",
        "37e003810037e003810037e003810038e003810038e003810038e003810038e003810038e003810038e00381",
        "0038e003810038e003810038e003810038e003810039e003810039e003810039e003810039e003810039e003",
        "810039e003810039e003810039e003810039e00381013939",
    );

    /// liblzf's output as redis-server 7.0.15 wrote it in `DUMP` payloads
    /// (`SET k <value>`, `DUMP k`, bytes after the `0xC3 clen len` header).
    #[test]
    fn decompresses_vectors_produced_by_redis() {
        let events: Vec<u8> = (0..100)
            .flat_map(|n| format!("user:event:{n}").into_bytes())
            .collect();
        let vectors: [(&str, Vec<u8>); 4] = [
            (
                "016161e05800016162",
                [b"a".repeat(100), b"b".to_vec()].concat(),
            ),
            (
                "0c757365723a6576656e743a3175e0010b0032e0030b0030e0031902333031",
                b"user:event:1user:event:2user:event:201user:event:301".to_vec(),
            ),
            (
                "02787978e00b0101797a",
                b"xyxyxyxyxyxyxyxyxyxyxyxyz".to_vec(),
            ),
            (REDIS_EVENTS_1290, events),
        ];
        for (hex, expected) in vectors {
            let mut out = Vec::new();
            decompress(&unhex(hex), &mut out, expected.len()).unwrap();
            assert_eq!(out, expected, "vector {hex}");
            // Our compressor happens to make the same choices as liblzf on
            // these (not promised in general, see the module docs).
            let mut ours = Vec::new();
            compress(&expected, &mut ours, expected.len()).unwrap();
            assert_eq!(ours, unhex(hex), "compressing {hex}");
        }
    }

    #[test]
    fn round_trips_edge_shapes() {
        assert_eq!(compress(b"", &mut Vec::new(), 10), None);
        for input in [
            &b"a"[..],
            b"ab",
            b"abc",
            b"aaaa",
            &[0u8; 1000],
            &b"abcdefghijklmnopqrstuvwxyz0123456789".repeat(300),
        ] {
            round_trip(input);
        }
        // Exactly 32 and 33 literals: run boundaries.
        let noise: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [31, 32, 33, 64, 65, 200] {
            round_trip(&noise[..len]);
        }
        // Longest and farthest references.
        let mut far = noise.clone();
        far.extend(std::iter::repeat_n(b'q', 9000));
        far.extend_from_slice(&noise);
        round_trip(&far);
    }

    #[test]
    fn repetitive_data_compresses_and_noise_does_not_fit_its_size() {
        let text: Vec<u8> = (0..500)
            .flat_map(|n| format!("user:event:{n}").into_bytes())
            .collect();
        let size = round_trip(&text).unwrap();
        assert!(size * 2 < text.len(), "{size} of {}", text.len());
        let noise = noise(0x9e37_79b9_7f4a_7c15, 4096);
        assert_eq!(compress(&noise, &mut Vec::new(), noise.len()), None);
    }

    #[test]
    fn corrupt_and_oversized_streams_are_errors() {
        let mut out = Vec::new();
        // A literal run cut short.
        assert_eq!(
            decompress(&[5, b'a'], &mut out, 100),
            Err(LzfError::Corrupt)
        );
        // A reference before the start of the output.
        assert_eq!(
            decompress(&[0, b'a', 0x20, 5], &mut Vec::new(), 100),
            Err(LzfError::Corrupt)
        );
        // A long reference missing its length byte.
        assert_eq!(
            decompress(&[0, b'a', 0xe0], &mut Vec::new(), 100),
            Err(LzfError::Corrupt)
        );
        // More output than allowed.
        assert_eq!(
            decompress(&[1, b'a', b'b'], &mut Vec::new(), 1),
            Err(LzfError::OutputTooLong)
        );
        assert_eq!(decompress(&[], &mut Vec::new(), 0), Ok(0));
    }

    #[test]
    fn the_table_from_an_earlier_call_is_not_used() {
        let a = b"0123456789abcdef0123456789abcdef".repeat(4);
        let mut first = Vec::new();
        compress(&a, &mut first, a.len()).unwrap();
        let b = b"zyxwvutsrqponmlk".repeat(8);
        round_trip(&b);
        let mut again = Vec::new();
        compress(&a, &mut again, a.len()).unwrap();
        assert_eq!(first, again, "same input, same output");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_inputs_round_trip(
            pieces in proptest::collection::vec(
                (proptest::collection::vec(0u8..4, 0..40), 0usize..5),
                0..60,
            ),
        ) {
            // Low-entropy pieces, some repeated, so that references of
            // every length and distance occur.
            let mut input = Vec::new();
            for (piece, times) in &pieces {
                for _ in 0..=*times {
                    input.extend_from_slice(piece);
                }
            }
            if !input.is_empty() {
                round_trip(&input);
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decompress(&bytes, &mut Vec::new(), 1000);
        }
    }
}

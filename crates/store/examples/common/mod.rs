//! What the measuring examples share: the process's resident memory and a
//! deterministic random generator. Included with `mod common;` (a folder
//! without `main.rs`, so Cargo does not build it as an example).

#![allow(dead_code)] // Each example uses a part.

/// Bytes of a memory page as `/proc/self/statm` counts them.
const PAGE_SIZE: usize = 4096;

/// The resident set size of this process (Linux only: reads
/// `/proc/self/statm`).
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm field 2");
    pages * PAGE_SIZE
}

/// A small deterministic generator so runs are comparable.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next value below `bound`.
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound
    }
}

//! Finding line terminators without rescanning.

use super::DecodeStats;

/// Searches a buffer for the end of the current line, remembering how far it
/// got so that the next call (after more data arrived) continues there.
///
/// The buffer's start must stay the start of the line between calls; call
/// [`LineScanner::reset`] once the line has been consumed.
#[derive(Debug, Default)]
pub(crate) struct LineScanner {
    /// Bytes at the front of the buffer known not to hold the terminator.
    scanned: usize,
    /// A NUL came first: C's `strchr` will never see past it (request mode).
    blocked_by_nul: bool,
}

impl LineScanner {
    /// Position of the first `terminator`, searching as Redis's
    /// `strchr(querybuf, terminator)` does: the buffer is a C string there, so
    /// a NUL byte before the terminator hides it for good and the request can
    /// only end with a "too big" error once the buffered data passes the limit.
    pub(crate) fn find_in_c_string(
        &mut self,
        src: &[u8],
        terminator: u8,
        stats: &mut DecodeStats,
    ) -> Option<usize> {
        if self.blocked_by_nul {
            return None;
        }
        let pos = self.search(src, stats, |rest| memchr::memchr2(terminator, 0, rest))?;
        if src[pos] == 0 {
            self.blocked_by_nul = true;
            return None;
        }
        Some(pos)
    }

    /// Position of the first `terminator` (binary-safe, for replies).
    pub(crate) fn find(
        &mut self,
        src: &[u8],
        terminator: u8,
        stats: &mut DecodeStats,
    ) -> Option<usize> {
        self.search(src, stats, |rest| memchr::memchr(terminator, rest))
    }

    fn search(
        &mut self,
        src: &[u8],
        stats: &mut DecodeStats,
        search: impl FnOnce(&[u8]) -> Option<usize>,
    ) -> Option<usize> {
        let from = self.scanned.min(src.len());
        match search(&src[from..]) {
            Some(offset) => {
                stats.bytes_scanned += offset as u64 + 1;
                // Stay on the hit: if the caller still needs the byte after it,
                // the next call finds it again at the cost of one byte.
                self.scanned = from + offset;
                Some(from + offset)
            }
            None => {
                stats.bytes_scanned += (src.len() - from) as u64;
                self.scanned = src.len();
                None
            }
        }
    }

    /// Forgets the current line (it was consumed from the buffer).
    pub(crate) fn reset(&mut self) {
        *self = LineScanner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumes_where_it_stopped() {
        let mut scanner = LineScanner::default();
        let mut stats = DecodeStats::default();
        assert_eq!(scanner.find(b"abcd", b'\r', &mut stats), None);
        assert_eq!(stats.bytes_scanned, 4);
        assert_eq!(scanner.find(b"abcdef\r\n", b'\r', &mut stats), Some(6));
        assert_eq!(stats.bytes_scanned, 4 + 3);
    }

    #[test]
    fn nul_hides_the_terminator_like_strchr() {
        let mut scanner = LineScanner::default();
        let mut stats = DecodeStats::default();
        assert_eq!(
            scanner.find_in_c_string(b"*1\0\r\n", b'\r', &mut stats),
            None
        );
        assert_eq!(
            scanner.find_in_c_string(b"*1\0\r\n\r\n", b'\r', &mut stats),
            None
        );
        scanner.reset();
        assert_eq!(
            scanner.find_in_c_string(b"*1\r\n", b'\r', &mut stats),
            Some(2)
        );
    }
}

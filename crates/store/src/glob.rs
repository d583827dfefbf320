//! Redis glob patterns (`stringmatchlen`).

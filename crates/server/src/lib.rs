//! The Redigo server library (work in progress: see issue 5).

//! The point search of `GEOSEARCH`/`GEORADIUS`, as `geo.c`'s
//! `membersOfAllNeighbors` and the sorting of `georadiusGeneric`.
//!
//! The nine cells of [`geohash::areas_by_shape`] are walked in Redis's
//! order (centre, N, S, E, W, NE, NW, SE, SW), each as the score range
//! `[min, max)` of the sorted set, in the set's order (score, then member);
//! a cell equal to the last one walked is skipped, and with `COUNT n ANY`
//! the walk stops as soon as `n` points matched. The matches are then
//! sorted by distance the way Redis sorts them, so that ties come out in
//! the same order:
//!
//! * all of them by glibc's `qsort`, which (glibc 2.36, the oracle's) is a
//!   stable top-down merge sort ([`merge_sort`]);
//! * only the first `COUNT` by Redis's `pqsort` (Bentley-McIlroy quicksort
//!   that skips the partitions outside the wanted range, not stable:
//!   [`partial_quicksort`]).
//!
//! Both are ported step for step: with distance ties, and with NaN
//! distances (antipodal points) for which the comparison is inconsistent,
//! any other algorithm could order the points differently.

use super::geohash::{self, Shape};

/// One match: the member, its score, its decoded position and its distance
/// in meters from the centre (`geoPoint`).
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub member: Vec<u8>,
    pub score: f64,
    pub xy: [f64; 2],
    pub dist: f64,
}

/// Reading a sorted set by score: calls `visit(member, score)` for each
/// member with `min <= score < max`, in the set's order, until `visit`
/// returns `false`.
pub trait ScoreRange {
    fn walk(&mut self, min: f64, max: f64, visit: &mut dyn FnMut(&[u8], f64) -> bool);
}

/// The points of `zset` inside `shape`, in walk order; with `limit > 0`
/// (`COUNT n ANY`) at most that many, the first found.
pub fn points_in_shape(zset: &mut dyn ScoreRange, shape: &Shape, limit: usize) -> Vec<Point> {
    let areas = geohash::areas_by_shape(shape);
    let cells = areas.cells();
    let mut found = Vec::new();
    let full = |found: &Vec<Point>| !found.is_empty() && limit > 0 && found.len() >= limit;
    // Index of the last cell walked; 0 (the centre) also stands for "none
    // yet", as in Redis, so the first neighbour is never compared.
    let mut last_processed = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make adjacent neighbours the same cell.
        if last_processed != 0 && cell == cells[last_processed] {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = geohash::score_range(cell);
        zset.walk(min, max, &mut |member, score| {
            let xy = geohash::decode_score(score);
            if let Some(dist) = shape.distance_if_within(xy) {
                found.push(Point {
                    member: member.to_vec(),
                    score,
                    xy,
                    dist,
                });
            }
            !full(&found)
        });
        last_processed = i;
    }
    found
}

/// The order of a search's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    None,
    Asc,
    Desc,
}

/// `sort_gp_asc`: 1, 0 or -1 (a NaN distance compares below everything,
/// and everything below it).
fn compare_asc(a: &Point, b: &Point) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

/// Orders `points` as `georadiusGeneric` does and keeps the first
/// `count` (0: all).
pub fn sort_and_truncate(points: &mut Vec<Point>, sort: Sort, count: usize) {
    let len = points.len();
    let returned = if count == 0 || len < count {
        len
    } else {
        count
    };
    let cmp: fn(&Point, &Point) -> i32 = match sort {
        Sort::None => {
            points.truncate(returned);
            return;
        }
        Sort::Asc => compare_asc,
        Sort::Desc => |a, b| -compare_asc(a, b),
    };
    if returned == len {
        merge_sort(points, cmp);
    } else if returned > 0 {
        partial_quicksort(points, cmp, 0, returned - 1);
    }
    points.truncate(returned);
}

/// glibc 2.36's `msort_with_tmp`: split in halves (`n / 2` first), sort
/// each, merge taking from the left half while `cmp(left, right) <= 0`.
pub fn merge_sort<T: Clone>(v: &mut [T], cmp: fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    merge_sort(&mut v[..n1], cmp);
    merge_sort(&mut v[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..]);
    v.clone_from_slice(&merged);
}

/// Redis's `pqsort(a, n, es, cmp, lrange, rrange)`: sorts enough of `v`
/// that the positions `lrange..=rrange` hold what a full sort would put
/// there (in this algorithm's order for equal elements).
pub fn partial_quicksort<T>(v: &mut [T], cmp: fn(&T, &T) -> i32, lrange: usize, rrange: usize) {
    let n = v.len();
    pqsort_from(v, 0, n, cmp, lrange, rrange);
}

/// `med3`: the index of the median of three.
fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

/// `vecswap`: swaps the `n` elements from `a` with the `n` from `b`.
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the partition of `len` elements at `start` holds none of the
/// wanted positions (pqsort's pointer comparisons, in element units).
fn outside(start: usize, len: usize, lrange: usize, rrange: usize) -> bool {
    (lrange < start && rrange < start) || (lrange >= start + len && rrange >= start + len)
}

/// `_pqsort` on `v[base..base + n]`, indices instead of pointers.
fn pqsort_from<T>(
    v: &mut [T],
    mut base: usize,
    mut n: usize,
    cmp: fn(&T, &T) -> i32,
    lrange: usize,
    rrange: usize,
) {
    loop {
        if n < 7 {
            for pm in base + 1..base + n {
                let mut pl = pm;
                while pl > base && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = base + n / 2;
        if n > 7 {
            let mut pl = base;
            let mut pn = base + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(base, pm);
        let (mut pa, mut pb) = (base + 1, base + 1);
        let (mut pc, mut pd) = (base + n - 1, base + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[base]);
                if r > 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[base]);
                if r < 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = base + n;
        let r = (pa - base).min(pb - pa);
        vecswap(v, base, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(base, r, lrange, rrange) {
            pqsort_from(v, base, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            // Iterate rather than recurse, as the C code.
            base = pn - r;
            n = r;
            if !outside(base, n, lrange, rrange) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::geo::format;
    use crate::commands::geo::geohash::{ShapeKind, score_of};

    /// A sorted set as a sorted vector of (score, member).
    struct Sorted(Vec<(f64, Vec<u8>)>);

    impl ScoreRange for Sorted {
        fn walk(&mut self, min: f64, max: f64, visit: &mut dyn FnMut(&[u8], f64) -> bool) {
            for (score, member) in &self.0 {
                if *score >= min && *score < max && !visit(member, *score) {
                    return;
                }
            }
        }
    }

    fn set(points: &[(f64, f64, &str)]) -> Sorted {
        let mut v: Vec<_> = points
            .iter()
            .map(|&(lon, lat, m)| (score_of(lon, lat).unwrap() as f64, m.as_bytes().to_vec()))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Sorted(v)
    }

    fn circle(lon: f64, lat: f64, radius: f64) -> Shape {
        Shape {
            xy: [lon, lat],
            conversion: 1000.0,
            kind: ShapeKind::Circle { radius },
        }
    }

    fn members(points: &[Point]) -> Vec<&str> {
        points
            .iter()
            .map(|p| std::str::from_utf8(&p.member).unwrap())
            .collect()
    }

    #[test]
    fn finds_the_points_within_the_radius_across_the_antimeridian() {
        let mut zset = set(&[
            (179.99, 0.0, "east"),
            (-179.99, 0.0, "west"),
            (170.0, 0.0, "far"),
        ]);
        // As Redis: from 179.995 both sides are found (the west one in
        // the wrapped-around neighbour cell); from exactly 180 only the
        // east one is (redis-server 7.0.15 answers the same).
        let mut found = points_in_shape(&mut zset, &circle(179.995, 0.0, 5.0), 0);
        sort_and_truncate(&mut found, Sort::Asc, 0);
        assert_eq!(members(&found), ["east", "west"]);
        assert_eq!(format::distance(found[1].dist / 1000.0), "1.6686");
        let found = points_in_shape(&mut zset, &circle(180.0, 0.0, 5.0), 0);
        assert_eq!(members(&found), ["east"]);
    }

    #[test]
    fn any_stops_at_the_count() {
        let mut zset = set(&[(1.0, 1.0, "a"), (1.001, 1.0, "b"), (1.002, 1.0, "c")]);
        let found = points_in_shape(&mut zset, &circle(1.0, 1.0, 50.0), 2);
        assert_eq!(found.len(), 2);
    }

    fn point(dist: f64, tag: u8) -> Point {
        Point {
            member: vec![tag],
            score: 0.0,
            xy: [0.0, 0.0],
            dist,
        }
    }

    #[test]
    fn the_full_sort_is_stable_and_the_partial_one_sorts_the_prefix() {
        let mut v: Vec<Point> = (0..100u8)
            .map(|i| point(f64::from((u32::from(i) * 37) % 11), i))
            .collect();
        let mut stable = v.clone();
        stable.sort_by(|a, b| a.dist.total_cmp(&b.dist));
        let mut merged = v.clone();
        merge_sort(&mut merged, compare_asc);
        assert_eq!(merged, stable);
        partial_quicksort(&mut v, compare_asc, 0, 19);
        let dists: Vec<f64> = v[..20].iter().map(|p| p.dist).collect();
        let expected: Vec<f64> = stable[..20].iter().map(|p| p.dist).collect();
        assert_eq!(dists, expected);
    }
}

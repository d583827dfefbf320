//! Geohash arithmetic, a port of Redis 7.0's `geohash.c` and
//! `geohash_helper.c`, operation for operation, so that scores, hashes,
//! distances and coordinates come out bit-identical to Redis's.
//!
//! # Score layout
//!
//! A point is stored as the score of a sorted-set member: its longitude and
//! latitude, each scaled to `[0, 2^26)` over its range, interleaved into a
//! 52-bit integer (latitude in the even bits, longitude in the odd ones),
//! which a double holds exactly. Nearby points share a prefix, so the points
//! in a geohash cell of `step` bits per axis are one score range.
//!
//! The latitude range is Web Mercator's (`±85.05112878`, EPSG:900913), not
//! `±90`: points nearer the poles are refused. Only `GEOHASH` re-encodes with
//! the standard `±90` range, to print the usual base-32 string.
//!
//! # Searches
//!
//! [`areas_by_shape`] picks a cell size from the search radius
//! ([`estimate_steps_by_radius`]) and returns the cell of the centre and its
//! eight neighbours, the ones that cannot hold a match zeroed; the caller
//! walks the score range of each and filters the points by exact distance
//! ([`distance_if_in_radius`], [`distance_if_in_rectangle`]).
//!
//! # Floating point
//!
//! Every expression keeps the order of operations of the C code; the
//! trigonometry goes through the platform's libm as Redis's does (on Linux,
//! glibc, as the oracle's), so distances match to the last bit. Pure
//! arithmetic, no I/O.

/// Bits per axis of a stored score: 26 * 2 = 52 bits, exact in a double.
pub const GEO_STEP_MAX: u8 = 26;
/// Latitude limits of Web Mercator (EPSG:900913 / EPSG:3785 / OSGEO:41001).
pub const GEO_LAT_MIN: f64 = -85.05112878;
/// See [`GEO_LAT_MIN`].
pub const GEO_LAT_MAX: f64 = 85.05112878;
/// Longitude limits.
pub const GEO_LONG_MIN: f64 = -180.0;
/// See [`GEO_LONG_MIN`].
pub const GEO_LONG_MAX: f64 = 180.0;
/// Earth's quadratic mean radius for WGS-84, Redis's haversine radius.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Half the Web Mercator world width: the radius of the coarsest cell.
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians as `geohash_helper.c`'s `D_R` (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A geohash: `step` bits per axis, interleaved in the low bits of `bits`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// `HASHISZERO`: the "no cell" marker of a zeroed neighbour.
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A closed interval of degrees.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    /// `RANGEISZERO`.
    fn is_zero(self) -> bool {
        self.max == 0.0 && self.min == 0.0
    }
}

/// The cell a hash stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub hash: HashBits,
    pub longitude: Range,
    pub latitude: Range,
}

/// The eight cells around one, as `GeoHashNeighbors`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// The longitude range of stored scores.
pub const WGS84_LONG_RANGE: Range = Range {
    min: GEO_LONG_MIN,
    max: GEO_LONG_MAX,
};
/// The latitude range of stored scores (Web Mercator's).
pub const WGS84_LAT_RANGE: Range = Range {
    min: GEO_LAT_MIN,
    max: GEO_LAT_MAX,
};
/// The latitude range of the standard geohash string (`GEOHASH`).
pub const STANDARD_LAT_RANGE: Range = Range {
    min: -90.0,
    max: 90.0,
};

/// Interleaves the low 32 bits of `xlo` (even bits) and `ylo` (odd bits).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits in the low 32 bits of the
/// result, odd bits in the high 32.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: the cell of `step` bits per axis holding the point, or
/// `None` outside the ranges (or the Web Mercator limits, which Redis
/// checks whatever the ranges).
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    // As C's comparisons: a NaN passes them (`contains` would refuse it).
    #[allow(clippy::manual_range_contains)]
    if longitude > GEO_LONG_MAX
        || longitude < GEO_LONG_MIN
        || latitude > GEO_LAT_MAX
        || latitude < GEO_LAT_MIN
    {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    // C converts the offsets to uint32_t by truncation; they are within
    // [0, 2^step], which `as` truncates the same way.
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// `geohashEncodeWGS84`: the cell in the stored-score ranges.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG_RANGE, WGS84_LAT_RANGE, longitude, latitude, step)
}

/// `geohashDecode`: the cell a hash stands for (`None` for the zero hash).
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    let separated = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = separated as u32;
    let ilono = (separated >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    // `ilato + 1` is uint32_t arithmetic in C: it wraps.
    Some(Area {
        hash,
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / cells) * long_scale,
        },
    })
}

/// `geohashDecodeWGS84`.
pub fn decode_wgs84(hash: HashBits) -> Option<Area> {
    decode(WGS84_LONG_RANGE, WGS84_LAT_RANGE, hash)
}

/// `geohashDecodeAreaToLongLat`: the centre of the cell, clamped to the
/// limits.
fn area_centre(area: &Area) -> [f64; 2] {
    let clamp = |value: f64, min: f64, max: f64| {
        if value > max {
            max
        } else if value < min {
            min
        } else {
            value
        }
    };
    [
        clamp(
            (area.longitude.min + area.longitude.max) / 2.0,
            GEO_LONG_MIN,
            GEO_LONG_MAX,
        ),
        clamp(
            (area.latitude.min + area.latitude.max) / 2.0,
            GEO_LAT_MIN,
            GEO_LAT_MAX,
        ),
    ]
}

/// `decodeGeohash` of `geo.c`: the `[longitude, latitude]` a sorted-set
/// score stands for. Any score decodes (a score not made by `GEOADD` gives
/// some clamped point), as in Redis.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: GEO_STEP_MAX,
    };
    // The step is never 0, so the hash is never the zero hash.
    area_centre(&decode_wgs84(hash).unwrap_or_default())
}

/// `(uint64_t)d` as GCC compiles it for x86-64 (Redis's `(uint64_t)bits`
/// in `decodeGeohash`): values below 2^63 through the signed conversion
/// (negatives wrap), the rest through it after subtracting 2^63; an
/// unrepresentable value converts to the "integer indefinite" value
/// 0x8000000000000000. Rust's saturating `as` would differ for scores
/// that `ZADD` put there (negative, huge or infinite ones).
pub fn c_double_to_u64(value: f64) -> u64 {
    const TWO_63: f64 = 9223372036854775808.0;
    if value < TWO_63 {
        cvttsd2si(value) as u64
    } else {
        (cvttsd2si(value - TWO_63) as u64) ^ (1 << 63)
    }
}

/// x86-64's truncating double to int64 conversion: `i64::MIN` when the
/// value does not fit (NaN included).
pub fn cvttsd2si(value: f64) -> i64 {
    const TWO_63: f64 = 9223372036854775808.0;
    if !(-TWO_63..TWO_63).contains(&value) {
        i64::MIN
    } else {
        value as i64
    }
}

/// x86-64's rounding double to int64 conversion (`llrint` in the default
/// round-half-to-even mode): `i64::MIN` when the value does not fit.
pub fn llrint(value: f64) -> i64 {
    cvttsd2si(value.round_ties_even())
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

/// `geohashNeighbors`: the eight cells around `hash` (wrapping around the
/// edges of the grid).
pub fn neighbors(hash: HashBits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

fn deg_rad(angle: f64) -> f64 {
    angle * D_R
}

fn rad_deg(angle: f64) -> f64 {
    angle / D_R
}

/// `geohashEstimateStepsByRadius`: the bits per axis of cells large enough
/// that the nine around a point cover a circle of `range_meters`.
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return GEO_STEP_MAX;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2; // Make sure the range is included in most of the base cases.
    // Wider range towards the poles (meridians converge).
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(GEO_STEP_MAX)) as u8
}

/// What a search covers, `GeoShape` of `geohash.h`: lengths are in the
/// request's unit, `conversion` meters per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// The centre, `[longitude, latitude]`.
    pub xy: [f64; 2],
    /// Meters per unit of the lengths below.
    pub conversion: f64,
    pub kind: ShapeKind,
}

/// A radius or a box (`BYRADIUS` / `BYBOX`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Rectangle { width: f64, height: f64 },
}

impl Shape {
    /// `geohashBoundingBox`: `[min long, min lat, max long, max lat]`.
    pub fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Circle { radius } => (self.conversion * radius, self.conversion * radius),
            ShapeKind::Rectangle { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        // The long edges of the box bend: north of the equator its top is
        // the wider side, south of it the bottom.
        let delta = if latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - delta,
            latitude - lat_delta,
            longitude + delta,
            latitude + lat_delta,
        ]
    }

    /// The radius, in meters, of the circle the cells must cover: the
    /// radius, or the half diagonal of a box.
    fn radius_meters(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Circle { radius } => radius,
            ShapeKind::Rectangle { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }

    /// `geoWithinShape` after the decoding: the distance in meters from
    /// the centre to `xy` when `xy` is inside the shape.
    pub fn distance_if_within(&self, xy: [f64; 2]) -> Option<f64> {
        match self.kind {
            ShapeKind::Circle { radius } => distance_if_in_radius(
                self.xy[0],
                self.xy[1],
                xy[0],
                xy[1],
                radius * self.conversion,
            ),
            ShapeKind::Rectangle { width, height } => distance_if_in_rectangle(
                width * self.conversion,
                height * self.conversion,
                self.xy[0],
                self.xy[1],
                xy[0],
                xy[1],
            ),
        }
    }
}

/// `GeoHashRadius`: the centre's cell, its area and its neighbours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchAreas {
    pub hash: HashBits,
    pub area: Area,
    pub neighbors: Neighbors,
}

impl SearchAreas {
    /// The nine cells in the order `membersOfAllNeighbors` walks them.
    pub fn cells(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// `geohashCalculateAreasByShapeWGS84`: the nine cells covering `shape`,
/// with the neighbours that lie wholly outside its bounding box zeroed.
pub fn areas_by_shape(shape: &Shape) -> SearchAreas {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let [longitude, latitude] = shape.xy;
    let mut steps = estimate_steps_by_radius(shape.radius_meters(), latitude);

    // Redis ignores the failure of these calls (the centre was validated);
    // a failed encode leaves a zero hash, as here.
    let cells_at = |steps: u8| {
        let hash = encode_wgs84(longitude, latitude, steps).unwrap_or(HashBits {
            bits: 0,
            step: steps,
        });
        let neighbors = neighbors(hash);
        let area = decode_wgs84(hash).unwrap_or_default();
        (hash, neighbors, area)
    };
    let (mut hash, mut neighbors, mut area) = cells_at(steps);

    // When the search area is near an edge of the centre cell, the
    // estimated step can leave a part of it outside the nine cells.
    let decrease_step = {
        let north = decode_wgs84(neighbors.north).unwrap_or_default();
        let south = decode_wgs84(neighbors.south).unwrap_or_default();
        let east = decode_wgs84(neighbors.east).unwrap_or_default();
        let west = decode_wgs84(neighbors.west).unwrap_or_default();
        north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon
    };
    if steps > 1 && decrease_step {
        steps -= 1;
        (hash, neighbors, area) = cells_at(steps);
    }

    // Exclude the cells that are useless.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            neighbors.south = zero;
            neighbors.south_west = zero;
            neighbors.south_east = zero;
        }
        if area.latitude.max > max_lat {
            neighbors.north = zero;
            neighbors.north_east = zero;
            neighbors.north_west = zero;
        }
        if area.longitude.min < min_lon {
            neighbors.west = zero;
            neighbors.south_west = zero;
            neighbors.north_west = zero;
        }
        if area.longitude.max > max_lon {
            neighbors.east = zero;
            neighbors.south_east = zero;
            neighbors.north_east = zero;
        }
    }
    SearchAreas {
        hash,
        area,
        neighbors,
    }
}

/// `geohashAlign52Bits`: the hash shifted to the 52-bit score layout.
pub fn align_52_bits(hash: HashBits) -> u64 {
    hash.bits << (52 - u32::from(hash.step) * 2)
}

/// `scoresOfGeoHashBox`: the scores `[min, max)` of the points in a cell.
pub fn score_range(hash: HashBits) -> (f64, f64) {
    let min = align_52_bits(hash);
    let max = align_52_bits(HashBits {
        bits: hash.bits + 1,
        step: hash.step,
    });
    (min as f64, max as f64)
}

/// The score `GEOADD` stores for a point (`None` outside the limits).
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, GEO_STEP_MAX).map(align_52_bits)
}

/// `geohashGetLatDistance`: the distance along a meridian.
pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// `geohashGetDistance`: the haversine great-circle distance in meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// `geohashGetDistanceIfInRadius`: the distance when it is at most
/// `radius` (a NaN distance counts as inside, as `*distance > radius` is
/// false in C too).
pub fn distance_if_in_radius(x1: f64, y1: f64, x2: f64, y2: f64, radius: f64) -> Option<f64> {
    let d = distance(x1, y1, x2, y2);
    if d > radius { None } else { Some(d) }
}

/// `geohashGetDistanceIfInRectangle`: the distance from the box centre
/// `(x1, y1)` to `(x2, y2)` when the point is within `height_m / 2` of it
/// along the meridian and `width_m / 2` along its own parallel.
pub fn distance_if_in_rectangle(
    width_m: f64,
    height_m: f64,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
) -> Option<f64> {
    if lat_distance(y2, y1) > height_m / 2.0 {
        return None;
    }
    if distance(x2, y2, x1, y2) > width_m / 2.0 {
        return None;
    }
    Some(distance(x1, y1, x2, y2))
}

/// The base-32 alphabet of geohash strings.
const GEO_ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
/// Characters of a `GEOHASH` string: 10 carry the 52 bits (50 of them),
/// the 11th is always `0`, kept for compatibility.
pub const GEOHASH_STRING_LEN: usize = 11;

/// The standard 11-character geohash of a stored score, as `GEOHASH`
/// replies: the point decoded, then encoded again over the standard
/// `±90` latitude range.
pub fn geohash_string(score: f64) -> Option<[u8; GEOHASH_STRING_LEN]> {
    let [longitude, latitude] = decode_score(score);
    let hash = encode(
        WGS84_LONG_RANGE,
        STANDARD_LAT_RANGE,
        longitude,
        latitude,
        GEO_STEP_MAX,
    )?;
    let mut out = [b'0'; GEOHASH_STRING_LEN];
    for (i, c) in out.iter_mut().enumerate().take(GEOHASH_STRING_LEN - 1) {
        let idx = (hash.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = GEO_ALPHABET[idx as usize];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    //! Expected values are redis-server 7.0.15's replies (`GEOADD`, then
    //! `ZSCORE`, `GEOPOS`, `GEOHASH`, `GEODIST`), recorded.

    use super::*;
    use crate::commands::geo::format;

    /// (longitude, latitude, ZSCORE, GEOPOS, GEOHASH) as Redis answered.
    const POINTS: &[(f64, f64, u64, &str, &str, &str)] = &[
        (
            13.361389,
            38.115556,
            3479099956230698,
            "13.36138933897018433",
            "38.11555639549629859",
            "sqc8b49rny0",
        ),
        (
            15.087269,
            37.502669,
            3479447370796909,
            "15.08726745843887329",
            "37.50266842333162032",
            "sqdtr74hyu0",
        ),
        (
            -180.0,
            -85.05112878,
            0,
            "-179.99999731779098511",
            "-85.05112751263942528",
            "00bh0hbj200",
        ),
        (
            180.0,
            85.05112878,
            13510798882111488,
            "180",
            "85.0511287799999991",
            "bp05b5048p0",
        ),
        (
            179.9999,
            0.5,
            4128321133537522,
            "179.99990075826644897",
            "0.50000036325177888",
            "xbpfzgpbtw0",
        ),
        (
            0.0,
            0.0,
            3377699720527872,
            "0.00000268220901489",
            "0.00000126736058093",
            "s0000000000",
        ),
        (
            -0.0001,
            -0.0001,
            1125899906841058,
            "-0.00009924173355103",
            "-0.00010012148579364",
            "7zzzzzzzmt0",
        ),
    ];

    #[test]
    fn scores_positions_and_hashes_match_redis() {
        for &(lon, lat, score, plon, plat, hash) in POINTS {
            assert_eq!(score_of(lon, lat), Some(score), "{lon},{lat}");
            let [x, y] = decode_score(score as f64);
            assert_eq!(
                (
                    format::coordinate(x).as_str(),
                    format::coordinate(y).as_str()
                ),
                (plon, plat)
            );
            assert_eq!(&geohash_string(score as f64).unwrap(), hash.as_bytes());
        }
    }

    #[test]
    fn points_beyond_the_limits_have_no_score() {
        assert_eq!(score_of(180.000001, 0.0), None);
        assert_eq!(score_of(0.0, 85.05112879), None);
        assert_eq!(score_of(0.0, -85.05112879), None);
        assert_eq!(score_of(-180.000001, 0.0), None);
    }

    #[test]
    fn distances_match_redis() {
        let d = |a: (f64, f64), b: (f64, f64)| {
            let p = decode_score(score_of(a.0, a.1).unwrap() as f64);
            let q = decode_score(score_of(b.0, b.1).unwrap() as f64);
            distance(p[0], p[1], q[0], q[1])
        };
        let palermo = (13.361389, 38.115556);
        let catania = (15.087269, 37.502669);
        assert_eq!(format::distance(d(palermo, catania)), "166274.1516");
        assert_eq!(format::distance(d(palermo, catania) / 1000.0), "166.2742");
        let sw = (-180.0, -85.05112878);
        let ne = (180.0, 85.05112878);
        assert_eq!(format::distance(d(sw, ne)), "18919844.5891");
        assert_eq!(format::distance(d(sw, ne) / 1609.34), "11756.2756");
        assert_eq!(
            format::distance(d((179.9999, 0.5), (0.0, 0.0)) / 0.3048),
            "65502364.3946"
        );
    }

    #[test]
    fn garbage_scores_decode_like_the_c_cast() {
        // (uint64_t) of a negative double wraps; of +inf gives 0.
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(f64::INFINITY), 0);
        assert_eq!(c_double_to_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(c_double_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(c_double_to_u64(3.9), 3);
        assert_eq!((llrint(2.5), llrint(3.5), llrint(-2.5)), (2, 4, -2));
        assert_eq!(llrint(f64::NAN), i64::MIN);
    }

    #[test]
    fn steps_shrink_with_the_radius_and_towards_the_poles() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
        assert_eq!(estimate_steps_by_radius(1000.0, 0.0), 14);
        assert_eq!(estimate_steps_by_radius(1000.0, 70.0), 13);
        assert_eq!(estimate_steps_by_radius(1000.0, -81.0), 12);
        assert_eq!(estimate_steps_by_radius(5e7, 0.0), 1);
    }

    #[test]
    fn interleaving_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let i = interleave64(x, y);
            let d = deinterleave64(i);
            assert_eq!((d as u32, (d >> 32) as u32), (x, y));
        }
        assert_eq!(interleave64(1, 0), 1);
        assert_eq!(interleave64(0, 1), 2);
    }

    #[test]
    fn neighbours_wrap_around_the_grid() {
        let h = HashBits { bits: 0, step: 2 };
        let n = neighbors(h);
        // West of column 0 is column 3 (the antimeridian), south of row 0
        // is row 3.
        assert_eq!(
            n.west,
            HashBits {
                bits: 0b1010,
                step: 2
            }
        );
        assert_eq!(
            n.south,
            HashBits {
                bits: 0b0101,
                step: 2
            }
        );
        assert_eq!(
            n.east,
            HashBits {
                bits: 0b0010,
                step: 2
            }
        );
        assert_eq!(
            n.north,
            HashBits {
                bits: 0b0001,
                step: 2
            }
        );
    }
}

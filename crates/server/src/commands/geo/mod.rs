//! The geospatial commands: `GEOADD`, `GEOPOS`, `GEODIST`, `GEOHASH`,
//! `GEOSEARCH`, `GEOSEARCHSTORE`, `GEORADIUS`, `GEORADIUSBYMEMBER` and the
//! `_RO` forms, as Redis 7.0's `geo.c`.
//!
//! A geo index is an ordinary sorted set whose scores are 52-bit geohashes
//! ([`geohash`], a port of `geohash.c`/`geohash_helper.c`); the commands
//! stand on the sorted-set store API (`ops::zsets` of redigo-store:
//! `zadd`, `zscore`, `zscore_range_walk`, `zstore_result`) and every `Z*`
//! command sees a `GEOADD`ed key as the sorted set it is.
//!
//! The handlers follow `geo.c` check for check, since the order of the
//! checks decides which error a bad request gets: `GEOADD` reads its
//! options and every coordinate before it touches the key; the searches
//! (`georadius_generic`, Redis's `georadiusGeneric`) look the source key
//! up first, then read the arguments left to right, then apply the
//! combination rules. Searching ([`search`]) walks the nine geohash cells
//! around the centre and sorts the matches as Redis does, ties included;
//! numbers are printed as Redis prints them ([`format`]).
//!
//! Propagation, as redis-server 7.0.15 writes its AOF: `GEOADD` as the
//! `zadd key [options] score member ...` it turns into (only when it
//! changed something); `GEOSEARCHSTORE` and `GEORADIUS[BYMEMBER] ...
//! STORE|STOREDIST` as sent, when they stored a result or deleted the
//! destination (the search is deterministic, so a replay stores the same).
//!
//! `specs` holds the `COMMAND INFO`/`DOCS` metadata generated from the
//! oracle.

mod format;
mod geohash;
mod search;
mod specs;

#[cfg(test)]
mod propagation_tests;

use bytes::Bytes;
use redigo_aof::Record;
use redigo_store::numeric::parse_score;
use redigo_store::ops::zsets::{ScoreBound, ScoreRange, ZaddFlags};
use redigo_store::{DbHandle, StoreError};

use self::geohash::{Shape, ShapeKind};
use self::search::{Point, Sort};
use super::arguments::{integer, is_keyword};
use super::collection_reply::notify_stored;
use super::context::ExecContext;
use super::errors;
use super::spec::CommandSpec;
use crate::pubsub::notifications::EventClass;

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// `geo.c`'s error for a missing `FROMMEMBER`/`GEORADIUSBYMEMBER` member.
const MEMBER_NOT_FOUND: &str = "ERR could not decode requested zset member";
/// `extractUnitOrReply`'s error.
const BAD_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";

/// `getDoubleFromObjectOrReply` with an optional message (`ERR <msg>`).
fn double_or(arg: &[u8], msg: Option<&str>) -> Result<f64, String> {
    parse_score(arg).ok_or_else(|| match msg {
        Some(msg) => format!("ERR {msg}"),
        None => errors::NOT_FLOAT.to_owned(),
    })
}

/// `extractLongLatOrReply`: `[longitude, latitude]` within the limits.
fn lon_lat(args: &[Bytes]) -> Result<[f64; 2], String> {
    let xy = [double_or(&args[0], None)?, double_or(&args[1], None)?];
    if xy[0] < geohash::GEO_LONG_MIN
        || xy[0] > geohash::GEO_LONG_MAX
        || xy[1] < geohash::GEO_LAT_MIN
        || xy[1] > geohash::GEO_LAT_MAX
    {
        return Err(format!(
            "ERR invalid longitude,latitude pair {:.6},{:.6}",
            xy[0], xy[1]
        ));
    }
    Ok(xy)
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, String> {
    const UNITS: [(&str, f64); 4] = [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)];
    UNITS
        .iter()
        .find(|(name, _)| is_keyword(arg, name))
        .map(|&(_, meters)| meters)
        .ok_or_else(|| BAD_UNIT.to_owned())
}

/// `extractDistanceOrReply`: `(radius, meters per unit)`.
fn radius_and_unit(args: &[Bytes]) -> Result<(f64, f64), String> {
    let radius = double_or(&args[0], Some("need numeric radius"))?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".to_owned());
    }
    Ok((radius, unit(&args[1])?))
}

/// `extractBoxOrReply`: `(width, height, meters per unit)`.
fn box_and_unit(args: &[Bytes]) -> Result<(f64, f64, f64), String> {
    let width = double_or(&args[0], Some("need numeric width"))?;
    let height = double_or(&args[1], Some("need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err("ERR height or width cannot be negative".to_owned());
    }
    Ok((width, height, unit(&args[2])?))
}

/// The position a stored score stands for (`longLatFromMember`).
fn member_position(db: &mut DbHandle<'_>, key: &[u8], member: &[u8]) -> Option<[f64; 2]> {
    match db.zscore(key, member) {
        Ok(Some(score)) => Some(geohash::decode_score(score)),
        _ => None,
    }
}

/// `GEOADD key [NX|XX] [CH] longitude latitude member ...`: reads the
/// options and every coordinate, then adds as the `ZADD` it becomes.
fn handle_geoadd(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (mut flags, mut ch) = (ZaddFlags::default(), false);
    let mut longidx = 2;
    while longidx < args.len() {
        let opt = &args[longidx];
        if is_keyword(opt, "nx") {
            flags.nx = true;
        } else if is_keyword(opt, "xx") {
            flags.xx = true;
        } else if is_keyword(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        longidx += 1;
    }
    let triples = &args[longidx..];
    // No triple at all is ZADD's syntax error, reached through geo.c.
    if triples.len() % 3 != 0 || triples.is_empty() || (flags.xx && flags.nx) {
        return ctx.reply_error(errors::SYNTAX);
    }
    let mut pairs = Vec::with_capacity(triples.len() / 3);
    for triple in triples.chunks_exact(3) {
        let xy = match lon_lat(&triple[..2]) {
            Ok(xy) => xy,
            Err(error) => return ctx.reply_error(&error),
        };
        // Within the limits the encoding cannot fail.
        let score = geohash::score_of(xy[0], xy[1]).unwrap_or(0);
        pairs.push((score, triple[2].clone()));
    }
    let scored: Vec<(f64, &Bytes)> = pairs.iter().map(|(s, m)| (*s as f64, m)).collect();
    let fresh = ctx.creates_key(&args[1]);
    match ctx.db().zadd(&args[1], flags, &scored) {
        Ok(outcome) => {
            // GEOADD runs Redis's ZADD: its events are ZADD's.
            if fresh && outcome.added > 0 {
                ctx.notify_new(&args[1]);
            }
            if outcome.added + outcome.updated > 0 {
                ctx.notify(EventClass::ZSET, "zadd", &args[1]);
                ctx.propagate(|| {
                    let mut record = Record::new("zadd").arg(&args[1]);
                    for opt in &args[2..longidx] {
                        record = record.arg(opt);
                    }
                    for (score, member) in &pairs {
                        record = record.arg(score.to_string()).arg(member);
                    }
                    record
                });
            }
            let n = if ch {
                outcome.added + outcome.updated
            } else {
                outcome.added
            };
            ctx.reply_integer(i64::try_from(n).unwrap_or(i64::MAX));
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

/// Looks a read's key up as `lookupKeyRead` + `checkType`: whether it
/// exists, counting the hit or miss; `Err` (a hit) for another type.
fn lookup_zset(ctx: &mut ExecContext<'_>, key: &[u8]) -> Result<bool, StoreError> {
    match ctx.db().zcard(key) {
        Ok(n) => {
            ctx.count_lookup(key, n > 0);
            Ok(n > 0)
        }
        Err(error) => {
            ctx.keyspace_hit();
            Err(error)
        }
    }
}

/// `GEOPOS key member ...`: `[longitude, latitude]` or a nil array each.
fn handle_geopos(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    if let Err(error) = lookup_zset(ctx, key) {
        return ctx.reply_error(&error.to_string());
    }
    let scores = match ctx.db().zmscore(key, &args[2..]) {
        Ok(scores) => scores,
        Err(error) => return ctx.reply_error(&error.to_string()),
    };
    ctx.reply_array_len(scores.len());
    for score in scores {
        match score {
            Some(score) => {
                let [lon, lat] = geohash::decode_score(score);
                ctx.reply_array_len(2);
                ctx.reply_bulk(format::coordinate(lon).as_bytes());
                ctx.reply_bulk(format::coordinate(lat).as_bytes());
            }
            None => ctx.reply_null_array(),
        }
    }
}

/// `GEOHASH key member ...`: the 11-character geohash or nil each.
fn handle_geohash(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let key = &args[1];
    if let Err(error) = lookup_zset(ctx, key) {
        return ctx.reply_error(&error.to_string());
    }
    let scores = match ctx.db().zmscore(key, &args[2..]) {
        Ok(scores) => scores,
        Err(error) => return ctx.reply_error(&error.to_string()),
    };
    ctx.reply_array_len(scores.len());
    for score in scores {
        match score.and_then(geohash::geohash_string) {
            Some(hash) => ctx.reply_bulk(&hash),
            None => ctx.reply_null(),
        }
    }
}

/// `GEODIST key member1 member2 [unit]`: the unit is read before the key.
fn handle_geodist(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let to_meter = match args.len() {
        5 => match unit(&args[4]) {
            Ok(meters) => meters,
            Err(error) => return ctx.reply_error(&error),
        },
        4 => 1.0,
        _ => return ctx.reply_error(errors::SYNTAX),
    };
    let key = &args[1];
    match lookup_zset(ctx, key) {
        Err(error) => return ctx.reply_error(&error.to_string()),
        Ok(false) => return ctx.reply_null(),
        Ok(true) => {}
    }
    let first = member_position(&mut ctx.db(), key, &args[2]);
    let second = member_position(&mut ctx.db(), key, &args[3]);
    match (first, second) {
        (Some(a), Some(b)) => {
            let d = geohash::distance(a[0], a[1], b[0], b[1]) / to_meter;
            ctx.reply_bulk(format::distance(d).as_bytes());
        }
        _ => ctx.reply_null(),
    }
}

/// `georadiusGeneric`'s variant flags.
const RADIUS_COORDS: u8 = 1 << 0;
/// Search around a member.
const RADIUS_MEMBER: u8 = 1 << 1;
/// No `STORE`/`STOREDIST` option (the `_RO` forms).
const RADIUS_NOSTORE: u8 = 1 << 2;
/// The `GEOSEARCH` syntax (`FROM*`/`BY*`).
const GEOSEARCH: u8 = 1 << 3;
/// `GEOSEARCHSTORE`: a destination, and a bare `STOREDIST`.
const GEOSEARCHSTORE: u8 = 1 << 4;

fn handle_georadius(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 1, RADIUS_COORDS);
}

fn handle_georadiusbymember(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 1, RADIUS_MEMBER);
}

fn handle_georadius_ro(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 1, RADIUS_COORDS | RADIUS_NOSTORE);
}

fn handle_georadiusbymember_ro(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE);
}

fn handle_geosearch(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 1, GEOSEARCH);
}

fn handle_geosearchstore(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    georadius_generic(ctx, args, 2, GEOSEARCH | GEOSEARCHSTORE);
}

/// A sorted set of the store seen as the score ranges the search walks.
struct StoredZset<'a, 'b> {
    db: &'a mut DbHandle<'b>,
    key: &'a [u8],
}

impl search::ScoreRange for StoredZset<'_, '_> {
    fn walk(&mut self, min: f64, max: f64, visit: &mut dyn FnMut(&[u8], f64) -> bool) {
        let range = ScoreRange {
            min: ScoreBound {
                value: min,
                exclusive: false,
            },
            max: ScoreBound {
                value: max,
                exclusive: true,
            },
        };
        // The key was checked to be a sorted set under the same lock.
        let _ = self.db.zscore_range_walk(self.key, &range, visit);
    }
}

/// The parsed request of a search: what `georadiusGeneric` collects.
struct Request<'a> {
    shape: Shape,
    store_key: Option<&'a Bytes>,
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coords: bool,
    sort: Sort,
    any: bool,
    count: i64,
}

/// `georadiusGeneric`: every search command, `flags` telling which.
fn georadius_generic(ctx: &mut ExecContext<'_>, args: &[Bytes], src_index: usize, flags: u8) {
    let src = &args[src_index];
    let exists = match lookup_zset(ctx, src) {
        Ok(exists) => exists,
        Err(error) => return ctx.reply_error(&error.to_string()),
    };
    let request = match parse_request(ctx, args, flags, exists) {
        Ok(request) => request,
        Err(error) => return ctx.reply_error_bytes(&error),
    };
    if !exists {
        // Return ASAP when the source does not exist (after the checks).
        return match request.store_key {
            Some(dst) => {
                if ctx.db().del(&[dst]) > 0 {
                    ctx.notify(EventClass::GENERIC, "del", dst);
                    ctx.propagate(|| Record::from_args(args));
                }
                ctx.reply_integer(0);
            }
            None => ctx.reply_array_len(0),
        };
    }
    let mut sort = request.sort;
    // COUNT without an order returns the nearest (not with ANY).
    if request.count != 0 && sort == Sort::None && !request.any {
        sort = Sort::Asc;
    }
    let count = usize::try_from(request.count).unwrap_or(usize::MAX);
    let limit = if request.any { count } else { 0 };
    let mut points = {
        let mut db = ctx.db();
        let mut zset = StoredZset {
            db: &mut db,
            key: src,
        };
        search::points_in_shape(&mut zset, &request.shape, limit)
    };
    if points.is_empty() && request.store_key.is_none() {
        return ctx.reply_array_len(0);
    }
    search::sort_and_truncate(&mut points, sort, count);
    let conversion = request.shape.conversion;
    for point in &mut points {
        point.dist /= conversion; // Fix according to the unit.
    }
    match request.store_key {
        None => reply_points(ctx, &request, &points),
        Some(dst) => {
            let items = points
                .into_iter()
                .map(|p| {
                    let score = if request.store_dist { p.dist } else { p.score };
                    (Bytes::from(p.member), score)
                })
                .collect();
            let fresh = ctx.creates_key(dst);
            let stored = ctx.db().zstore_result(dst, items);
            let event = if flags & GEOSEARCH != 0 {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            let outcome = (stored.len, stored.destination_deleted);
            notify_stored(ctx, dst, fresh, outcome, (EventClass::ZSET, event));
            if stored.len > 0 || stored.destination_deleted {
                ctx.propagate(|| Record::from_args(args));
            }
            ctx.reply_integer(i64::try_from(stored.len).unwrap_or(i64::MAX));
        }
    }
}

/// The reply of a search without a destination: members, or per member
/// an array of the member and the requested extras (distance, hash,
/// coordinates, always in that order).
fn reply_points(ctx: &mut ExecContext<'_>, request: &Request<'_>, points: &[Point]) {
    let extras = usize::from(request.with_dist)
        + usize::from(request.with_coords)
        + usize::from(request.with_hash);
    ctx.reply_array_len(points.len());
    for point in points {
        if extras > 0 {
            ctx.reply_array_len(extras + 1);
        }
        ctx.reply_bulk(&point.member);
        if request.with_dist {
            ctx.reply_bulk(format::distance(point.dist).as_bytes());
        }
        if request.with_hash {
            ctx.reply_integer(geohash::cvttsd2si(point.score));
        }
        if request.with_coords {
            ctx.reply_array_len(2);
            ctx.reply_bulk(format::coordinate(point.xy[0]).as_bytes());
            ctx.reply_bulk(format::coordinate(point.xy[1]).as_bytes());
        }
    }
}

/// The argument reading of `georadiusGeneric`, up to the combination
/// rules; an error is the reply (bytes: some quote the command name).
fn parse_request<'a>(
    ctx: &mut ExecContext<'_>,
    args: &'a [Bytes],
    flags: u8,
    exists: bool,
) -> Result<Request<'a>, Vec<u8>> {
    let text = |error: String| error.into_bytes();
    let src = &args[if flags & GEOSEARCHSTORE != 0 { 2 } else { 1 }];
    let mut request = Request {
        shape: Shape {
            xy: [0.0, 0.0],
            conversion: 0.0,
            kind: ShapeKind::Circle { radius: 0.0 },
        },
        store_key: None,
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coords: false,
        sort: Sort::None,
        any: false,
        count: 0,
    };
    let base_args;
    if flags & RADIUS_COORDS != 0 {
        base_args = 6;
        request.shape.xy = lon_lat(&args[2..4]).map_err(text)?;
        let (radius, conversion) = radius_and_unit(&args[4..6]).map_err(text)?;
        request.shape.conversion = conversion;
        request.shape.kind = ShapeKind::Circle { radius };
    } else if flags & RADIUS_MEMBER != 0 && !exists {
        // No source: read the options only, to pick the empty reply.
        base_args = 5;
    } else if flags & RADIUS_MEMBER != 0 {
        base_args = 5;
        request.shape.xy = member_position(&mut ctx.db(), src, &args[2])
            .ok_or_else(|| MEMBER_NOT_FOUND.as_bytes().to_vec())?;
        let (radius, conversion) = radius_and_unit(&args[3..5]).map_err(text)?;
        request.shape.conversion = conversion;
        request.shape.kind = ShapeKind::Circle { radius };
    } else {
        base_args = if flags & GEOSEARCHSTORE != 0 { 3 } else { 2 };
        if flags & GEOSEARCHSTORE != 0 {
            request.store_key = Some(&args[1]);
        }
    }

    let (mut from_member, mut from_loc, mut by_radius, mut by_box) = (false, false, false, false);
    let search = flags & GEOSEARCH != 0;
    let may_store = flags & RADIUS_NOSTORE == 0 && !search;
    let options = &args[base_args.min(args.len())..];
    let remaining = options.len();
    let mut i = 0;
    while i < remaining {
        let arg = &options[i];
        if is_keyword(arg, "withdist") {
            request.with_dist = true;
        } else if is_keyword(arg, "withhash") {
            request.with_hash = true;
        } else if is_keyword(arg, "withcoord") {
            request.with_coords = true;
        } else if is_keyword(arg, "any") {
            request.any = true;
        } else if is_keyword(arg, "asc") {
            request.sort = Sort::Asc;
        } else if is_keyword(arg, "desc") {
            request.sort = Sort::Desc;
        } else if is_keyword(arg, "count") && i + 1 < remaining {
            let count =
                integer(&options[i + 1]).ok_or_else(|| errors::NOT_INTEGER.as_bytes().to_vec())?;
            if count <= 0 {
                return Err(b"ERR COUNT must be > 0".to_vec());
            }
            request.count = count;
            i += 1;
        } else if is_keyword(arg, "store") && i + 1 < remaining && may_store {
            request.store_key = Some(&options[i + 1]);
            request.store_dist = false;
            i += 1;
        } else if is_keyword(arg, "storedist") && i + 1 < remaining && may_store {
            request.store_key = Some(&options[i + 1]);
            request.store_dist = true;
            i += 1;
        } else if is_keyword(arg, "storedist") && search && flags & GEOSEARCHSTORE != 0 {
            request.store_dist = true;
        } else if is_keyword(arg, "frommember") && i + 1 < remaining && search && !from_loc {
            if exists {
                request.shape.xy = member_position(&mut ctx.db(), src, &options[i + 1])
                    .ok_or_else(|| MEMBER_NOT_FOUND.as_bytes().to_vec())?;
            }
            from_member = true;
            i += 1;
        } else if is_keyword(arg, "fromlonlat") && i + 2 < remaining && search && !from_member {
            request.shape.xy = lon_lat(&options[i + 1..i + 3]).map_err(text)?;
            from_loc = true;
            i += 2;
        } else if is_keyword(arg, "byradius") && i + 2 < remaining && search && !by_box {
            let (radius, conversion) = radius_and_unit(&options[i + 1..i + 3]).map_err(text)?;
            request.shape.conversion = conversion;
            request.shape.kind = ShapeKind::Circle { radius };
            by_radius = true;
            i += 2;
        } else if is_keyword(arg, "bybox") && i + 3 < remaining && search && !by_radius {
            let (width, height, conversion) = box_and_unit(&options[i + 1..i + 4]).map_err(text)?;
            request.shape.conversion = conversion;
            request.shape.kind = ShapeKind::Rectangle { width, height };
            by_box = true;
            i += 3;
        } else {
            return Err(errors::SYNTAX.as_bytes().to_vec());
        }
        i += 1;
    }

    if request.store_key.is_some()
        && (request.with_dist || request.with_hash || request.with_coords)
    {
        let what = if flags & GEOSEARCHSTORE != 0 {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(text(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    if search && !(from_member || from_loc) {
        let mut error =
            b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ".to_vec();
        error.extend_from_slice(super::arguments::c_str(&args[0]));
        return Err(error);
    }
    if search && !(by_radius || by_box) {
        let mut error = b"ERR exactly one of BYRADIUS and BYBOX can be specified for ".to_vec();
        error.extend_from_slice(super::arguments::c_str(&args[0]));
        return Err(error);
    }
    if request.any && request.count == 0 {
        return Err(b"ERR the ANY argument requires COUNT argument".to_vec());
    }
    Ok(request)
}

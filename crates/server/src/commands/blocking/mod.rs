//! The blocking list commands: `BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`,
//! `BLMPOP` (Redis 7.0's `blockingPopGenericCommand`, `blmoveGenericCommand`
//! and `serveClientBlockedOnList`); the sorted set ones (`BZPOPMIN`,
//! `BZPOPMAX`, `BZMPOP`) are in [`zsets`].
//!
//! Each command first does what its non-blocking form would on the first
//! non-empty list of its keys (and is propagated as that form: `LPOP key`,
//! `LPOP key n`, `LMOVE`, `RPOPLPUSH`). When every key is missing it blocks
//! through [`ExecContext::block`] with a [`ListWait`], which
//! [`crate::blocking`] serves once a key gets elements; inside `MULTI` or a
//! script (`deny_blocking`) it answers as a timeout instead: a null array,
//! or a null bulk for `BLMOVE`/`BRPOPLPUSH`, as Redis does.
//!
//! The timeout is read by [`parse_timeout_seconds`] (fractional seconds,
//! `0` for ever) before the keys are looked at, except for `BLMPOP` and
//! `BLMOVE`, whose other arguments Redis checks first.

mod specs;
mod zsets;

use bytes::{Bytes, BytesMut};
use redigo_aof::Record;
use redigo_resp::encode;
use redigo_store::ValueKind;
use redigo_store::ops::lists::End;

use super::context::ExecContext;
use super::lists::{
    end_event, end_or_reply, lmpop_arguments, mpop_record, notify_moved, notify_popped, reply_mpop,
};
use super::spec::CommandSpec;
use crate::blocking::{BlockedOp, ServeContext, WaitOp, parse_timeout_seconds};
use crate::pubsub::notifications::EventClass;
use zsets::{handle_bzmpop, handle_bzpopmax, handle_bzpopmin};

/// The commands of this family.
pub(crate) const COMMANDS: &[CommandSpec] = specs::COMMANDS;

/// What a client blocked on lists does once one of its keys has elements.
#[derive(Debug)]
pub(crate) enum ListWait {
    /// `BLPOP`/`BRPOP`: pop one element from `end`, reply `[key, element]`.
    Pop {
        /// Which end.
        end: End,
    },
    /// `BLMPOP`: pop up to `count` elements, reply `[key, [elements]]`.
    MultiPop {
        /// Which end.
        end: End,
        /// At most this many.
        count: usize,
    },
    /// `BLMOVE`/`BRPOPLPUSH`: move one element to `destination`.
    Move {
        /// Where it goes.
        destination: Bytes,
        /// The source's end.
        from: End,
        /// The destination's end.
        to: End,
        /// Propagated as `RPOPLPUSH` rather than `LMOVE`.
        rpoplpush: bool,
    },
}

/// The end as Redis's served `LMOVE` record names it (`shared.left`).
fn end_name(end: End) -> &'static str {
    match end {
        End::Left => "left",
        End::Right => "right",
    }
}

fn pop_name(end: End) -> &'static str {
    match end {
        End::Left => "LPOP",
        End::Right => "RPOP",
    }
}

/// The shared waits of `BLPOP` and `BRPOP`.
static POP_LEFT: ListWait = ListWait::Pop { end: End::Left };
static POP_RIGHT: ListWait = ListWait::Pop { end: End::Right };

impl BlockedOp for ListWait {
    fn serve(&self, ctx: &mut ServeContext<'_>, key: &[u8]) -> Option<Bytes> {
        let Ok(mut db) = ctx.store.db(ctx.db, ctx.now_ms) else {
            return None;
        };
        // Only a list serves; a key of another kind leaves the client
        // blocked (Redis serves list clients from list keys only).
        if db.type_of(key) != Some(ValueKind::List) {
            return None;
        }
        let mut out = BytesMut::new();
        match self {
            ListWait::Pop { end } => {
                let popped = db.list_pop(key, *end, None).ok()??;
                notify_served_pop(ctx, key, *end, popped.key_deleted);
                let element = popped.elements.into_iter().next()?;
                ctx.propagation
                    .record(ctx.db, || Record::new(pop_name(*end)).arg(key));
                encode::array_header(&mut out, 2);
                encode::bulk(&mut out, key);
                encode::bulk(&mut out, &element);
            }
            ListWait::MultiPop { end, count } => {
                let popped = db.list_pop(key, *end, Some(*count)).ok()??;
                notify_served_pop(ctx, key, *end, popped.key_deleted);
                ctx.propagation
                    .record(ctx.db, || mpop_record(key, *end, &popped));
                encode::array_header(&mut out, 2);
                encode::bulk(&mut out, key);
                encode::array_header(&mut out, popped.elements.len());
                for element in &popped.elements {
                    encode::bulk(&mut out, element);
                }
            }
            ListWait::Move {
                destination,
                from,
                to,
                rpoplpush,
            } => match db.lmove(key, destination, *from, *to) {
                Ok(Some(moved)) => {
                    // `lmoveHandlePush` fires the push side first.
                    if moved.destination_created {
                        ctx.notify(EventClass::NEW, "new", destination);
                    }
                    ctx.notify(EventClass::LIST, end_event(*to, true), destination);
                    notify_served_pop(ctx, key, *from, moved.source_deleted);
                    ctx.propagation.record(ctx.db, || {
                        move_record(
                            key,
                            destination,
                            end_name(*from).as_bytes(),
                            end_name(*to).as_bytes(),
                            *rpoplpush,
                        )
                    });
                    ctx.wrote.push(destination.clone());
                    encode::bulk(&mut out, &moved.element);
                }
                Ok(None) => return None,
                // The destination holds another kind: the client gets the
                // error and is unblocked, nothing moves (Redis's
                // `checkType` on the destination).
                Err(error) => encode::error(&mut out, error.to_string()),
            },
        }
        Some(out.freeze())
    }
}

/// The pop side's events of a served client (`serveClientBlockedOnList`):
/// `lpop`/`rpop`, then `del` if the list went.
fn notify_served_pop(ctx: &ServeContext<'_>, key: &[u8], end: End, key_deleted: bool) {
    ctx.notify(EventClass::LIST, end_event(end, false), key);
    if key_deleted {
        ctx.notify(EventClass::GENERIC, "del", key);
    }
}

/// The record of a move: `LMOVE src dst from to`, or `RPOPLPUSH src dst`
/// for `BRPOPLPUSH`, as Redis rewrites them (an immediate `BLMOVE` keeps
/// the client's `from`/`to` words, a served one writes `left`/`right`).
fn move_record(
    source: &[u8],
    destination: &[u8],
    from: &[u8],
    to: &[u8],
    rpoplpush: bool,
) -> Record {
    if rpoplpush {
        Record::new("RPOPLPUSH").arg(source).arg(destination)
    } else {
        Record::new("LMOVE")
            .arg(source)
            .arg(destination)
            .arg(from)
            .arg(to)
    }
}

/// `BLPOP`/`BRPOP`/`BLMPOP` once the arguments are read
/// (`blockingPopGenericCommand`): `count` is `None` for `BLPOP`/`BRPOP`.
fn blocking_pop(
    ctx: &mut ExecContext<'_>,
    keys: &[Bytes],
    end: End,
    timeout_arg: &[u8],
    count: Option<usize>,
) {
    let timeout_ms = match parse_timeout_seconds(timeout_arg) {
        Ok(ms) => ms,
        Err(error) => return ctx.reply_error(error),
    };
    match ctx.db().lmpop(keys, end, count.unwrap_or(1)) {
        Ok(Some((key, popped))) => match count {
            Some(_) => {
                notify_popped(ctx, &key, end, popped.key_deleted);
                ctx.propagate(|| mpop_record(&key, end, &popped));
                reply_mpop(ctx, &key, popped);
            }
            None => {
                notify_popped(ctx, &key, end, popped.key_deleted);
                ctx.propagate(|| Record::new(pop_name(end)).arg(&key));
                ctx.reply_array_len(2);
                ctx.reply_bulk(&key);
                ctx.reply_bulk(popped.elements.first().map_or(&[][..], |e| &e[..]));
            }
        },
        Ok(None) if ctx.deny_blocking() => ctx.reply_null_array(),
        Ok(None) => {
            // A single pop's wait is shared (it allocates nothing).
            let wait = match (count, end) {
                (Some(count), _) => WaitOp::Owned(Box::new(ListWait::MultiPop { end, count })),
                (None, End::Left) => WaitOp::Shared(&POP_LEFT),
                (None, End::Right) => WaitOp::Shared(&POP_RIGHT),
            };
            ctx.block(keys, timeout_ms, wait);
        }
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_blpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let last = args.len() - 1;
    blocking_pop(ctx, &args[1..last], End::Left, &args[last], None);
}

fn handle_brpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let last = args.len() - 1;
    blocking_pop(ctx, &args[1..last], End::Right, &args[last], None);
}

fn handle_blmpop(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (keys, end, count) = match lmpop_arguments(args, 2) {
        Ok(parsed) => parsed,
        Err(error) => return ctx.reply_error(&error),
    };
    blocking_pop(ctx, keys, end, &args[1], Some(count));
}

/// `BLMOVE`/`BRPOPLPUSH` once the arguments are read
/// (`blmoveGenericCommand`).
fn blocking_move(ctx: &mut ExecContext<'_>, args: &[Bytes], wait: ListWait, timeout_ms: u64) {
    let ListWait::Move {
        destination,
        from,
        to,
        rpoplpush,
    } = &wait
    else {
        return;
    };
    let (source, destination, from, to, rpoplpush) =
        (&args[1], destination.clone(), *from, *to, *rpoplpush);
    match ctx.db().lmove(source, &destination, from, to) {
        Ok(Some(moved)) => {
            notify_moved(ctx, (source, &destination), (from, to), &moved);
            let (from_word, to_word) = if rpoplpush {
                (&b""[..], &b""[..])
            } else {
                (&args[3][..], &args[4][..])
            };
            ctx.propagate(|| move_record(source, &destination, from_word, to_word, rpoplpush));
            ctx.reply_bulk(&moved.element);
        }
        Ok(None) if ctx.deny_blocking() => ctx.reply_null(),
        Ok(None) => ctx.block(&args[1..2], timeout_ms, WaitOp::Owned(Box::new(wait))),
        Err(error) => ctx.reply_error(&error.to_string()),
    }
}

fn handle_blmove(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let (from, to) = match (end_or_reply(&args[3]), end_or_reply(&args[4])) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) | (_, Err(error)) => return ctx.reply_error(error),
    };
    let timeout_ms = match parse_timeout_seconds(&args[5]) {
        Ok(ms) => ms,
        Err(error) => return ctx.reply_error(error),
    };
    let wait = ListWait::Move {
        destination: Bytes::copy_from_slice(&args[2]),
        from,
        to,
        rpoplpush: false,
    };
    blocking_move(ctx, args, wait, timeout_ms);
}

fn handle_brpoplpush(ctx: &mut ExecContext<'_>, args: &[Bytes]) {
    let timeout_ms = match parse_timeout_seconds(&args[3]) {
        Ok(ms) => ms,
        Err(error) => return ctx.reply_error(error),
    };
    let wait = ListWait::Move {
        destination: Bytes::copy_from_slice(&args[2]),
        from: End::Right,
        to: End::Left,
        rpoplpush: true,
    };
    blocking_move(ctx, args, wait, timeout_ms);
}

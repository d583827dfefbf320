#!/usr/bin/env python3
"""Regenerate every command family's `specs.rs` from a live redis-server 7.0.

Redigo reproduces Redis 7.0's COMMAND INFO / COMMAND DOCS replies exactly, so the
metadata of every command (arity, flags, key positions, ACL categories, tips, key
specs, docs, argument trees) is copied from the oracle rather than typed by hand,
as Redis generates its own `commands.c` from its JSON files.

Usage (start an oracle first, on a free loopback port):

    redis-server --port 7601 --bind 127.0.0.1 --save '' --daemonize yes
    python3 crates/server/tools/gen_command_specs.py --port 7601
    python3 crates/server/tools/gen_command_specs.py --port 7601 --check

One invocation rewrites `crates/server/src/commands/<family>/specs.rs` for every
family in FAMILIES below, and `crates/server/src/commands/fragments.rs`, the named
fragments (flag sets, ACL category sets, tips, key specs, argument nodes) that
recur in more than one place; each generated file says so in its first line and
must not be edited by hand. `--check` writes nothing and exits 1 when a file would
change. The output is formatted with rustfmt.

To add a command: add it to its family's list (a container is `name:sub1,sub2`,
listing the subcommands Redigo implements), run the script, and write the handler
`handle_<name>` (`handle_<container>_<sub>` for a subcommand) in the family's
`mod.rs`. A container whose arity lets it run without a subcommand (`COMMAND`)
also needs `handle_<container>`; the others get `container_handler`.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
from collections import Counter

# Family folder under crates/server/src/commands -> (what the family is, for the
# module docs; its commands in table order).
FAMILIES = {
    'connection': ('the connection commands', [
        'ping', 'echo', 'hello', 'auth', 'quit', 'reset']),
    'client': ('`CLIENT` and its subcommands', [
        'client:setname,getname,id,list,info,kill,unblock,help,reply,pause,unpause,no-evict,'
        'tracking,trackinginfo,getredir,caching',
        'monitor']),
    'config': ('`CONFIG` and its subcommands', [
        'config:get,set,resetstat,help']),
    'info': ('`INFO`', ['info']),
    'introspection': ('`COMMAND` and its subcommands', [
        'command:count,info,docs,getkeysandflags,list,getkeys,help']),
    'server_admin': ('the server administration commands', [
        'time', 'shutdown', 'bgrewriteaof']),
    'databases': ('the database commands', [
        'select', 'swapdb', 'move', 'dbsize', 'flushdb', 'flushall']),
    'strings': ('the string commands', [
        'set', 'get', 'getset', 'getdel', 'getex', 'setnx', 'setex', 'psetex', 'mget',
        'mset', 'msetnx', 'incr', 'decr', 'incrby', 'decrby', 'incrbyfloat', 'append',
        'strlen', 'getrange', 'substr', 'setrange', 'lcs']),
    'keyspace': ('the generic key commands', [
        'del', 'unlink', 'exists', 'touch', 'type', 'rename', 'renamenx', 'copy',
        'keys', 'scan', 'randomkey']),
    'expiry': ('the TTL commands', [
        'expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl', 'expiretime',
        'pexpiretime', 'persist']),
    'hashes': ('the hash commands', [
        'hset', 'hsetnx', 'hget', 'hmset', 'hmget', 'hdel', 'hexists', 'hlen', 'hstrlen',
        'hkeys', 'hvals', 'hgetall', 'hincrby', 'hincrbyfloat', 'hrandfield', 'hscan']),
    'sets': ('the set commands', [
        'sadd', 'srem', 'scard', 'sismember', 'smismember', 'smembers', 'srandmember',
        'spop', 'smove', 'sinter', 'sintercard', 'sinterstore', 'sunion', 'sunionstore',
        'sdiff', 'sdiffstore', 'sscan']),
    'lists': ('the list commands', [
        'lpush', 'rpush', 'lpushx', 'rpushx', 'lpop', 'rpop', 'llen', 'lrange', 'lindex',
        'lset', 'linsert', 'lrem', 'ltrim', 'lpos', 'lmove', 'rpoplpush', 'lmpop']),
    'sorted_sets': ('the sorted set commands', [
        'zadd', 'zincrby', 'zrem', 'zcard', 'zscore', 'zmscore', 'zrank', 'zrevrank',
        'zcount', 'zlexcount', 'zrange', 'zrangestore', 'zrevrange', 'zrangebyscore',
        'zrevrangebyscore', 'zrangebylex', 'zrevrangebylex', 'zremrangebyrank',
        'zremrangebyscore', 'zremrangebylex', 'zpopmin', 'zpopmax', 'zmpop', 'zunion',
        'zinter', 'zdiff', 'zunionstore', 'zinterstore', 'zdiffstore', 'zintercard',
        'zrandmember', 'zscan']),
    'geo': ('the geospatial commands', [
        'geoadd', 'geopos', 'geodist', 'geohash', 'geosearch', 'geosearchstore', 'georadius',
        'georadius_ro', 'georadiusbymember', 'georadiusbymember_ro']),
    'blocking': ('the blocking list and sorted set commands', [
        'blpop', 'brpop', 'blmove', 'brpoplpush', 'blmpop', 'bzpopmin', 'bzpopmax',
        'bzmpop']),
    'sort': ('`SORT` and `SORT_RO`', ['sort', 'sort_ro']),
    'object': ('`OBJECT` and its subcommands', [
        'object:encoding,refcount,idletime,freq,help']),
    'memory': ('`MEMORY` and its subcommands', [
        'memory:purge,doctor,help,malloc-stats,usage,stats']),
    'pubsub': ('the pub/sub commands', [
        'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'publish',
        'pubsub:channels,numsub,numpat,shardchannels,shardnumsub,help',
        'ssubscribe', 'sunsubscribe', 'spublish']),
    'transactions': ('the transaction commands', [
        'multi', 'exec', 'discard', 'watch', 'unwatch']),
}

TOOL = 'crates/server/tools/gen_command_specs.py'
COMMANDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'commands')
# A fragment is named once it stands in at least this many places.
FRAGMENT_MIN_USES = 2
# An argument tree longer than this (in characters) gets a table of its own.
ARGS_INLINE_WIDTH = 120
# Argument nodes wider than this list their children one a line.
LINE_WIDTH = 100

FLAGS = {
    'write': 'Write', 'readonly': 'Readonly', 'denyoom': 'Denyoom', 'module': 'Module',
    'admin': 'Admin', 'pubsub': 'Pubsub', 'noscript': 'Noscript', 'blocking': 'Blocking',
    'loading': 'Loading', 'stale': 'Stale', 'skip_monitor': 'SkipMonitor',
    'skip_slowlog': 'SkipSlowlog', 'asking': 'Asking', 'fast': 'Fast', 'no_auth': 'NoAuth',
    'may_replicate': 'MayReplicate', 'no_mandatory_keys': 'NoMandatoryKeys',
    'no_multi': 'NoMulti', 'movablekeys': 'MovableKeys', 'allow_busy': 'AllowBusy',
    'no_async_loading': 'NoAsyncLoading',
}


# --- talking to the oracle -------------------------------------------------

def read_reply(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b'+', b'-'):
        return rest.decode()
    if kind == b':':
        return int(rest)
    if kind == b'$':
        n = int(rest)
        if n < 0:
            return None
        return f.read(n + 2)[:-2].decode()
    if kind == b'*':
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise ValueError(line)


class Oracle:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.file = self.sock.makefile('rb')

    def command(self, *args):
        req = b'*%d\r\n' % len(args)
        for a in args:
            a = a.encode()
            req += b'$%d\r\n%s\r\n' % (len(a), a)
        self.sock.sendall(req)
        return read_reply(self.file)

    def version(self):
        for line in self.command('INFO', 'server').splitlines():
            if line.startswith('redis_version:'):
                return line.split(':', 1)[1]
        raise ValueError('no redis_version in INFO')


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


# --- Rust literals ---------------------------------------------------------

def rs(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def strs(xs):
    return '&[' + ', '.join(rs(x) for x in xs) + ']'


def ident(s):
    return ''.join(c if c.isalnum() else '_' for c in s).upper().strip('_')


class Fragments:
    """Fragments of generated code that may be named: each kind is counted in
    a first pass over every family, and those standing in at least
    FRAGMENT_MIN_USES places are emitted as constants of `fragments.rs` and
    referred to by name in the second pass."""

    def __init__(self):
        self.uses = Counter()
        self.names = {}        # code -> name, once named
        self.defs = {}         # name -> (type, code)
        self.counting = True

    def use(self, rust_type, names, code, raw):
        """`code` (an expression of `rust_type`, `raw` the same with no name in
        it) or the name that stands for it."""
        key = (rust_type, raw)
        if self.counting:
            self.uses[key] += 1
            return code
        if key in self.names:
            return self.names[key]
        if self.uses[key] < FRAGMENT_MIN_USES:
            return code
        names = [names] if isinstance(names, str) else names
        unique, n = names[0], 2
        for candidate in names:
            if candidate not in self.defs:
                unique = candidate
                break
        while unique in self.defs:
            unique, n = '%s_%d' % (names[0], n), n + 1
        self.names[key] = unique
        self.defs[unique] = (rust_type, code)
        return unique


def key_spec_name(m, begin, find):
    words = [ident(f) for f in m.get('flags') or []]
    if begin[0] == 'index' and find == ('range', 0, 1, 0):
        words += ['KEY', 'AT', str(begin[1])]
    elif begin[0] == 'index' and find == ('range', -1, 1, 0):
        words += ['KEYS', 'FROM', str(begin[1])]
    else:
        words += ['KEYS'] + [str(x).replace('-', 'M').upper() for x in begin + find]
    return '_'.join(words)


class Emitter:
    def __init__(self, fragments):
        self.fr = fragments
        self.naming = True
        self.tables = []       # argument and subcommand tables of the file

    def named(self, rust_type, name, code, raw=None):
        if not self.naming:
            return code
        return self.fr.use(rust_type, name, code, code if raw is None else raw)

    def raw(self, emit, *args):
        """What `emit` writes with no fragment named."""
        self.naming = False
        try:
            return emit(*args)
        finally:
            self.naming = True

    def arg(self, a):
        """One argument as an `Arg` builder chain (see commands/spec.rs)."""
        m = pairs(a)
        out = 'Arg::new(%s, %s)' % (rs(m['name']), rs(m['type']))
        ksi = m.get('key_spec_index')
        if ksi is not None:
            out += '.key_spec(%d)' % ksi
        for field in ('token', 'summary', 'since', 'deprecated_since'):
            if m.get(field) is not None:
                out += '.%s(%s)' % (field, rs(m[field]))
        if m.get('flags'):
            out += '.flags(%s)' % strs(m['flags'])
        children = m.get('arguments') or []
        if children:
            out += '.arguments(%s)' % self.args(children)
        if out == 'Arg::new(%s, %s)' % (rs(m['name']), rs(m['type'])):
            return out
        words = ['ARG', ident(m['name'])] + [ident(f) for f in m.get('flags') or []]
        # The children's names tell apart two nodes of the same name and flags.
        names = ['_'.join(words), '_'.join(words + [ident(pairs(c)['name']) for c in children])]
        return self.named('Arg', names, out, self.raw(self.arg, a) if self.naming else out)

    def args(self, args):
        return '&[' + ', '.join(self.arg(a) for a in args) + ']'

    def arg_lines(self, args, indent):
        """`args` laid out as rustfmt lays out short items: as many a line as
        fit in LINE_WIDTH, a node whose children do not fit opening a block
        of its own."""
        pad = ' ' * indent
        lines, line = [], ''
        for a in args:
            code = self.arg(a) + ','
            children = pairs(a).get('arguments') or []
            if len(pad) + len(code) > LINE_WIDTH and children and not code.startswith('ARG_'):
                if line:
                    lines.append(pad + line)
                    line = ''
                head = code[:code.index('.arguments(&[')]
                lines.append(pad + head + '.arguments(&[')
                lines += self.arg_lines(children, indent + 4)
                lines.append(pad + ']),')
            elif line and len(pad) + len(line) + 1 + len(code) <= LINE_WIDTH:
                line += ' ' + code
            else:
                if line:
                    lines.append(pad + line)
                line = code
        if line:
            lines.append(pad + line)
        return lines

    def argument_table(self, command, args):
        """The argument tree inline when it fits, else the name of a table of
        its own (as Redis's `commands.c` has `SET_Args`)."""
        inline = self.args(args)
        if len(inline) < ARGS_INLINE_WIDTH or self.fr.counting:
            return inline
        name = ident(command) + '_ARGS'
        lines = self.arg_lines(args, 4)
        self.tables.append('const %s: &[Arg] = &[\n%s\n];' % (name, '\n'.join(lines)))
        return name

    def key_spec(self, s):
        m = pairs(s)
        bs = pairs(m['begin_search'])
        bspec = pairs(bs['spec']) if bs['spec'] else {}
        if bs['type'] == 'index':
            begin, code_b = ('index', bspec['index']), 'BeginSearch::Index(%d)' % bspec['index']
        elif bs['type'] == 'keyword':
            begin = ('keyword', bspec['keyword'], bspec['startfrom'])
            code_b = 'BeginSearch::keyword(%s, %d)' % (rs(bspec['keyword']), bspec['startfrom'])
        else:
            begin, code_b = ('unknown',), 'BeginSearch::Unknown'
        fk = pairs(m['find_keys'])
        fspec = pairs(fk['spec']) if fk['spec'] else {}
        if fk['type'] == 'range':
            find = ('range', fspec['lastkey'], fspec['keystep'], fspec['limit'])
            code_f = 'FindKeys::range(%d, %d, %d)' % find[1:]
        elif fk['type'] == 'keynum':
            find = ('keynum', fspec['keynumidx'], fspec['firstkey'], fspec['keystep'])
            code_f = 'FindKeys::keynum(%d, %d, %d)' % find[1:]
        else:
            find, code_f = ('unknown',), 'FindKeys::Unknown'
        flags = strs(m.get('flags') or [])
        if begin[0] == 'index' and find == ('range', 0, 1, 0):
            out = 'KeySpec::key_at(%s, %d)' % (flags, begin[1])
        elif begin[0] == 'index' and find == ('range', -1, 1, 0):
            out = 'KeySpec::keys_from(%s, %d)' % (flags, begin[1])
        else:
            out = 'KeySpec::new(%s, %s, %s)' % (flags, code_b, code_f)
        if m.get('notes') is not None:
            out += '.notes(%s)' % rs(m['notes'])
        return self.named('KeySpec', key_spec_name(m, begin, find), out)

    def spec(self, info, docs, only_subs=None):
        name, arity, flags, first, last, step, acl, tips, key_specs, subs = info
        d = pairs(docs)
        container = subs and only_subs is not None
        if container and abs(arity) >= 2:
            handler = 'container_handler'
        else:
            handler = 'handle_' + name.replace('|', '_').replace('-', '_')
        out = 'CommandSpec::new(%s, %d, %s)' % (rs(name), arity, handler)
        if flags:
            code = '&[' + ', '.join('Flag::' + FLAGS[f] for f in flags) + ']'
            out += '.flags(%s)' % self.named('&[Flag]', 'FLAGS_' + '_'.join(map(ident, flags)), code)
        if (first, last, step) != (0, 0, 0):
            out += '.keys(%d, %d, %d)' % (first, last, step)
        if acl:
            out += '.acl(%s)' % self.named('&[&str]', 'ACL_' + '_'.join(map(ident, acl)), strs(acl))
        if tips:
            short = [t.split(':', 1)[1] if t.startswith(('request_policy:', 'response_policy:')) else t
                     for t in tips]
            out += '.tips(%s)' % self.named('&[&str]', 'TIPS_' + '_'.join(map(ident, short)), strs(tips))
        if key_specs:
            out += '.key_specs(&[%s])' % ', '.join(self.key_spec(s) for s in key_specs)
        doc = 'CommandDocs::new(%s, %s, %s, %s)' % tuple(
            rs(d.get(f, '')) for f in ('summary', 'since', 'group', 'complexity'))
        if d.get('doc_flags'):
            doc += '.doc_flags(%s)' % strs(d['doc_flags'])
        for field in ('deprecated_since', 'replaced_by'):
            if d.get(field) is not None:
                doc += '.%s(%s)' % (field, rs(d[field]))
        if d.get('history'):
            doc += '.history(&[%s])' % ', '.join('(%s, %s)' % (rs(v), rs(t)) for v, t in d['history'])
        if d.get('arguments'):
            doc += '.arguments(%s)' % self.argument_table(name, d['arguments'])
        out += '.docs(%s)' % doc
        if container:
            sub_docs = pairs(d.get('subcommands') or [])
            by_name = {s[0]: s for s in subs}
            table = ident(name) + '_SUBCOMMANDS'
            at = len(self.tables)
            rows = [self.spec(by_name[name + '|' + sub], sub_docs[name + '|' + sub]) for sub in only_subs]
            self.tables.insert(at, 'const %s: &[CommandSpec] = &[\n%s\n];' % (
                table, '\n'.join('    %s,' % r for r in rows)))
            out += '.subcommands(%s)' % table
        return out


# --- files -----------------------------------------------------------------

def header(version):
    return ('// Generated by %s from redis-server %s (COMMAND INFO and COMMAND DOCS).\n'
            '// Do not edit: change the script\'s FAMILIES table and run it again.\n' % (TOOL, version))


SPEC_TYPES = ['Arg', 'BeginSearch', 'CommandDocs', 'CommandSpec', 'FindKeys', 'Flag', 'KeySpec',
              'container_handler']


def spec_imports(body, extra=()):
    """The `commands::spec` items `body` mentions."""
    return sorted({t for t in SPEC_TYPES if t + '::' in body or t + '(' in body
                   or t + ',' in body or t + ')' in body or t + ']' in body} | set(extra))


def family_file(version, family, what, body, tables, fragment_names):
    uses = spec_imports(body + '\n'.join(tables))
    out = header(version)
    out += '//! The `COMMAND INFO` / `COMMAND DOCS` metadata of %s.\n\n' % what
    out += 'use super::*;\n'
    if fragment_names:
        out += 'use crate::commands::fragments::{%s};\n' % ', '.join(sorted(fragment_names))
    out += 'use crate::commands::spec::{%s};\n\n' % ', '.join(uses)
    out += '#[rustfmt::skip]\npub(super) const COMMANDS: &[CommandSpec] = &[\n%s\n];\n' % body
    for table in tables:
        out += '\n#[rustfmt::skip]\n%s\n' % table
    return out


def fragments_file(version, defs):
    body = ''
    for name in sorted(defs):
        rust_type, code = defs[name]
        body += 'pub(crate) const %s: %s = %s;\n' % (name, rust_type, code)
    out = header(version)
    out += ('//! Fragments that recur in the generated `specs.rs` files, named by what\n'
            '//! they hold: flag sets (`FLAGS_`), ACL category sets (`ACL_`), command tips\n'
            '//! (`TIPS_`), key specs (access flags, then where the keys are: `KEY_AT_1`\n'
            '//! is the one key at argument 1, `KEYS_FROM_1` every argument from 1) and\n'
            '//! argument nodes (`ARG_`, then the argument\'s name, flags and children).\n\n')
    out += 'use super::spec::{%s};\n\n' % ', '.join(t for t in spec_imports(body) if t != 'CommandSpec')
    return out + body


def rustfmt(text):
    done = subprocess.run(['rustfmt', '--edition', '2024', '--emit', 'stdout'],
                          input=text.encode(), capture_output=True)
    if done.returncode != 0:
        sys.exit('rustfmt refused the generated code:\n' + done.stderr.decode())
    return done.stdout.decode()


def generate(oracle):
    version = oracle.version()
    fr = Fragments()
    fetched = {}
    for family, (_, commands) in FAMILIES.items():
        for c in commands:
            name = c.partition(':')[0]
            info = oracle.command('COMMAND', 'INFO', name)[0]
            docs = pairs(oracle.command('COMMAND', 'DOCS', name))[name]
            fetched[c] = (info, docs)

    def bodies():
        out = {}
        for family, (_, commands) in FAMILIES.items():
            em = Emitter(fr)
            specs = []
            for c in commands:
                subs = c.partition(':')[2]
                info, docs = fetched[c]
                specs.append(em.spec(info, docs, subs.split(',') if subs else None))
            out[family] = ('\n'.join('    %s,' % spec for spec in specs), em.tables)
        return out

    bodies()
    fr.counting = False
    files = {}
    for family, (body, tables) in bodies().items():
        what = FAMILIES[family][0]
        text = body + '\n'.join(tables)
        names = set(re.findall(r'\b[A-Z][A-Z0-9_]+\b', text)) & set(fr.defs)
        files[os.path.join(family, 'specs.rs')] = family_file(
            version, family, what, body, tables, names)
    files['fragments.rs'] = fragments_file(version, fr.defs)
    return {path: rustfmt(text) for path, text in files.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--port', type=int, default=6379, help='the oracle, on 127.0.0.1')
    p.add_argument('--check', action='store_true',
                   help='write nothing; exit 1 when a generated file is out of date')
    a = p.parse_args()
    files = generate(Oracle(a.port))
    stale = []
    for path, text in sorted(files.items()):
        full = os.path.normpath(os.path.join(COMMANDS_DIR, path))
        try:
            with open(full) as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        stale.append(full)
        if not a.check:
            with open(full, 'w') as f:
                f.write(text)
    for path in stale:
        print(('out of date: ' if a.check else 'wrote ') + os.path.relpath(path))
    sys.exit(1 if a.check and stale else 0)


if __name__ == '__main__':
    main()

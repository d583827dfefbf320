#!/usr/bin/env python3
"""Print Rust `CommandSpec` literals for Redis commands, read from a live redis-server.

Redigo reproduces Redis 7.0's COMMAND INFO / COMMAND DOCS replies exactly, so the
metadata of every command (arity, flags, key positions, ACL categories, tips, key
specs, docs, argument trees) is copied from the oracle rather than typed by hand.

Usage (start an oracle first: `redis-server --port 7601 --save '' --daemonize yes`):

    python3 crates/server/tools/gen_command_specs.py --port 7601 get set 'client:setname,getname'

A `name:sub1,sub2` argument emits a container command with only those
subcommands. Handlers are named `handle_<name>` (`|` becomes `_`); containers get
`container_handler`. Paste the output into the family file and write the handlers.
"""
import argparse
import socket


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
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b'*':
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise ValueError(line)


def command(sock_file, sock, *args):
    req = b'*%d\r\n' % len(args)
    for a in args:
        a = a.encode()
        req += b'$%d\r\n%s\r\n' % (len(a), a)
    sock.sendall(req)
    return read_reply(sock_file)


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2]))


def rs(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def opt(s):
    return 'None' if s is None else 'Some(%s)' % rs(s)


def strs(xs):
    return '&[' + ', '.join(rs(x) for x in xs) + ']'


FLAGS = {
    'write': 'Write', 'readonly': 'Readonly', 'denyoom': 'Denyoom', 'module': 'Module',
    'admin': 'Admin', 'pubsub': 'Pubsub', 'noscript': 'Noscript', 'blocking': 'Blocking',
    'loading': 'Loading', 'stale': 'Stale', 'skip_monitor': 'SkipMonitor',
    'skip_slowlog': 'SkipSlowlog', 'asking': 'Asking', 'fast': 'Fast', 'no_auth': 'NoAuth',
    'may_replicate': 'MayReplicate', 'no_mandatory_keys': 'NoMandatoryKeys',
    'no_multi': 'NoMulti', 'movablekeys': 'MovableKeys', 'allow_busy': 'AllowBusy',
    'no_async_loading': 'NoAsyncLoading',
}


def emit_arg(a):
    """One argument as an `Arg` builder chain (see commands/spec.rs): only
    the fields Redis reports are written; run rustfmt on the output."""
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
    if m.get('arguments'):
        out += '.arguments(%s)' % emit_args(m['arguments'])
    return out


def emit_args(args):
    if not args:
        return '&[]'
    return '&[' + ', '.join(emit_arg(a) for a in args) + ']'


def emit_key_specs(specs, ind):
    if not specs:
        return '&[]'
    pad = ' ' * ind
    out = '&[\n'
    for s in specs:
        m = pairs(s)
        bs = pairs(m['begin_search'])
        bspec = pairs(bs['spec']) if bs['spec'] else {}
        if bs['type'] == 'index':
            begin = 'BeginSearch::Index(%d)' % bspec['index']
        elif bs['type'] == 'keyword':
            begin = 'BeginSearch::Keyword { keyword: %s, startfrom: %d }' % (
                rs(bspec['keyword']), bspec['startfrom'])
        else:
            begin = 'BeginSearch::Unknown'
        fk = pairs(m['find_keys'])
        fspec = pairs(fk['spec']) if fk['spec'] else {}
        if fk['type'] == 'range':
            find = 'FindKeys::Range { lastkey: %d, keystep: %d, limit: %d }' % (
                fspec['lastkey'], fspec['keystep'], fspec['limit'])
        elif fk['type'] == 'keynum':
            find = 'FindKeys::Keynum { keynumidx: %d, firstkey: %d, keystep: %d }' % (
                fspec['keynumidx'], fspec['firstkey'], fspec['keystep'])
        else:
            find = 'FindKeys::Unknown'
        out += pad + '    KeySpec {\n'
        out += pad + '        notes: %s,\n' % opt(m.get('notes'))
        out += pad + '        flags: %s,\n' % strs(m.get('flags') or [])
        out += pad + '        begin_search: %s,\n' % begin
        out += pad + '        find_keys: %s,\n' % find
        out += pad + '    },\n'
    return out + pad + ']'


def emit_spec(info, docs, ind, only_subs=None):
    pad = ' ' * ind
    name, arity, flags, first, last, step, acl, tips, key_specs, subs = info
    d = pairs(docs)
    out = pad + 'CommandSpec {\n'
    out += pad + '    name: %s,\n' % rs(name)
    out += pad + '    arity: %d,\n' % arity
    out += pad + '    flags: &[%s],\n' % ', '.join('Flag::' + FLAGS[f] for f in flags)
    out += pad + '    first_key: %d,\n    %slast_key: %d,\n    %skey_step: %d,\n' % (first, pad, last, pad, step)
    out += pad + '    acl_categories: %s,\n' % strs(acl)
    out += pad + '    tips: %s,\n' % strs(tips)
    out += pad + '    key_specs: %s,\n' % emit_key_specs(key_specs, ind + 4)
    out += pad + '    docs: CommandDocs {\n'
    out += pad + '        summary: %s,\n' % rs(d.get('summary', ''))
    out += pad + '        since: %s,\n' % rs(d.get('since', ''))
    out += pad + '        group: %s,\n' % rs(d.get('group', ''))
    out += pad + '        complexity: %s,\n' % rs(d.get('complexity', ''))
    out += pad + '        doc_flags: %s,\n' % strs(d.get('doc_flags') or [])
    out += pad + '        deprecated_since: %s,\n' % opt(d.get('deprecated_since'))
    out += pad + '        replaced_by: %s,\n' % opt(d.get('replaced_by'))
    hist = d.get('history') or []
    out += pad + '        history: &[%s],\n' % ', '.join('(%s, %s)' % (rs(v), rs(t)) for v, t in hist)
    out += pad + '        arguments: %s,\n' % emit_args(d.get('arguments'))
    out += pad + '    },\n'
    if subs and only_subs is not None:
        sub_docs = pairs(d.get('subcommands') or [])
        by_name = {s[0]: s for s in subs}
        out += pad + '    subcommands: &[\n'
        for sub in only_subs:
            full = name + '|' + sub
            out += emit_spec(by_name[full], sub_docs[full], ind + 8) + ',\n'
        out += pad + '    ],\n'
        out += pad + '    handler: container_handler,\n'
    else:
        out += pad + '    subcommands: &[],\n'
        out += pad + '    handler: handle_%s,\n' % name.replace('|', '_').replace('-', '_')
    out += pad + '}'
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, default=6379)
    p.add_argument('commands', nargs='+')
    a = p.parse_args()
    sock = socket.create_connection(('127.0.0.1', a.port))
    f = sock.makefile('rb')
    print('pub(crate) const COMMANDS: &[CommandSpec] = &[')
    for c in a.commands:
        name, _, subs = c.partition(':')
        info = command(f, sock, 'COMMAND', 'INFO', name)[0]
        docs = pairs(command(f, sock, 'COMMAND', 'DOCS', name))[name]
        only = subs.split(',') if subs else None
        print(emit_spec(info, docs, 4, only) + ',')
    print('];')


if __name__ == '__main__':
    main()

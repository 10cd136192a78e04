# leakwatch inspect script, report format 1 (share/leakwatch/report-format.md).
#
# What problem: leakwatchd sees from /proc that a CPython process leaks (RSS,
# fds, threads) but not what in it leaks.  It injects this script twice,
# `keep` seconds apart (phase 1, phase 2); each run writes one line report
# into a FIFO the daemon made, and the difference between the two runs says
# which types, allocation sites, thread stacks and open files grew.
#
# Why a gc census + tracemalloc + referents, and not one of them:
#  - the gc census (gc.get_objects counted by type) is nearly free and sees
#    everything the program holds that can be in a cycle (instances, dicts,
#    functions, threads' objects) from the first run, but not untracked
#    objects (str, bytes, ints) and not where anything was allocated;
#  - tracemalloc, started in phase 1, sees every Python allocation made and
#    still alive in phase 2 with its traceback (the line that leaks), but
#    only from its start, and it costs the program CPU and ~60 bytes per
#    live traced block while it runs: hence on for `keep` seconds only;
#  - gc.get_referents of a sample of the grown objects says what they hold
#    (the untracked bytes/str behind a grown dict) at a cost bounded by the
#    sample.  Neither sees memory a C extension mallocs itself: the daemon
#    compares the traced heap with RSS for that.
# objgraph / guppy / Pympler are not in the target and walk every object in
# Python (seconds for 1M objects); a debugger-driven dump stops the process.
#
# Costs and bounds (1M live objects): gc.get_objects() and its types (two
# lists, 16 MB, freed at the end), C-level counting (map/_count_elements,
# itertools.compress) and one chunked pass for the samples that stops once
# they are full; phase 2 builds tracemalloc's trace list (~100 bytes and
# 0.3-0.65 us a block traced since phase 1) and folds it in one Python loop
# after stopping tracemalloc, at most 300000 blocks (more: sites estimated
# from the tracebacks of 4000 sampled objects).  Measured on 3.11 (make
# inspect-script prints it): 0.1-0.2 s a phase with 1M objects, 0.3 s with
# 1M and 60k more made between the phases; the bootstrap's compile adds
# 15-45 ms.  Slower: 3.8/3.9 (0.7 s at 1.3M objects: map(type) is slow
# while tracing), and a program that runs tracemalloc itself (then every
# allocation of ours is traced too, at 2-10 us: 0.6-0.9 s at 10k-100k
# objects with 4 frames).  Kept state between the phases is at most 10000
# census keys, 10000 stack groups and 10000 sites, each key cut to 256
# bytes; the report is at most 256 KiB, fields 256 bytes, lines 1024
# bytes, every control character (Unicode Cc) replaced by '?'.
#
# The target is hostile: its type, function, thread and file names may hold
# anything, and its __repr__, __getattr__, __sizeof__, __eq__, properties
# may raise or never return.  So nothing here calls repr() or str() on a
# target object or lets attribute lookup run target code: names come from
# the C-level descriptors of `type` and `function` (type.__dict__[...]
# .__get__), attributes from object.__getattribute__ after checking that no
# class in the MRO defines them, sizes from sys.getsizeof only when the
# type's __sizeof__ is a C method (object.__sizeof__ otherwise), and open
# sqlite connections are told apart by a getter that takes no sqlite lock.
# The script never raises out, never blocks (the FIFO is opened
# O_NONBLOCK), and leaves nothing behind but sys._leakwatch_inspect[token],
# the expiry timer and tracemalloc between the phases.


def _main(cfg):
    import sys
    import gc
    import os
    t0 = _now()
    ctx = {'errors': [], 'lines': [], 'script': sys._getframe(0).f_code.co_filename,
           'gc': gc, 'sys': sys, 'os': os, 'cache': {}, 'sizemode': {}}
    if not _cfg_ok(cfg):
        return None
    # timings=True (tests only; never sent by the daemon): `timing` lines,
    # which the reader ignores as an unknown record
    ctx['times'] = [('start', t0)] if cfg.get('timings') is True else None
    token, phase = cfg['token'], cfg['phase']
    try:
        _setup(ctx)
    except Exception as e:
        _err(ctx, 'internal', e)
    pending = None
    try:
        if phase == 1:
            _phase1(ctx, cfg)
        else:
            _phase2(ctx, cfg)
    except (KeyboardInterrupt, SystemExit) as e:
        # raised by the program's own signal handler while we ran in the
        # main thread: it is handed back once the report is written
        pending = e
        _err(ctx, 'internal', 'interrupted by the program\'s ' + type(e).__name__)
    except MemoryError:
        _err(ctx, 'internal', 'MemoryError')
    except Exception as e:
        _err(ctx, 'internal', e)
    pause = _now() - t0
    data = _assemble(ctx, token, phase, pause)
    _write(ctx, cfg['report'], data)
    return pending


def _tick(ctx, what):
    if ctx.get('times') is not None:
        ctx['times'].append((what, _now()))


def _now():
    import time
    return time.perf_counter()


def _cfg_ok(cfg):
    if type(cfg) is not dict:
        return False
    tok, ph, rep, keep = cfg.get('token'), cfg.get('phase'), cfg.get('report'), cfg.get('keep')
    if type(tok) is not str or len(tok) != 32 or any(c not in '0123456789abcdef' for c in tok):
        return False
    if type(ph) is not int or ph not in (1, 2) or type(rep) is not str or not rep.startswith('/'):
        return False
    return type(keep) is int and keep >= 0


def _setup(ctx):
    """The C-level accessors used instead of attribute lookup on target objects."""
    import types
    import operator
    import itertools
    # every module used later, imported before the first census (a module
    # first imported between the censuses would show as growth)
    import _thread          # noqa: F401
    import _tracemalloc
    import _collections     # noqa: F401
    import _signal          # noqa: F401
    import threading        # noqa: F401
    tdict = type.__dict__
    ctx['t_qual'] = tdict['__qualname__'].__get__
    ctx['t_mod'] = tdict['__module__'].__get__
    ctx['t_mro'] = tdict['__mro__'].__get__
    ctx['t_dict'] = tdict['__dict__'].__get__
    ctx['t_sub'] = tdict['__subclasscheck__']
    fd = types.FunctionType.__dict__
    ctx['f_qual'] = fd['__qualname__'].__get__
    ctx['f_mod'] = fd['__module__'].__get__
    ctx['func'] = types.FunctionType
    ctx['meth'] = types.MethodType
    ctx['m_func'] = types.MethodType.__dict__['__func__'].__get__
    ctx['builtin'] = types.BuiltinFunctionType
    ctx['b_qual'] = types.BuiltinFunctionType.__dict__['__qualname__'].__get__
    ctx['b_mod'] = types.BuiltinFunctionType.__dict__['__module__'].__get__
    ctx['frame_t'] = types.FrameType
    ctx['module_t'] = types.ModuleType
    ctx['exc_args'] = BaseException.__dict__['args'].__get__
    ctx['c_callables'] = (type(object.__sizeof__), type(object.__init__), types.BuiltinFunctionType)
    ctx['c_descr'] = (types.MemberDescriptorType, types.GetSetDescriptorType)
    ctx['is_'] = operator.is_
    ctx['tm_on'] = _tracemalloc.is_tracing
    ctx['compress'] = itertools.compress
    ctx['repeat'] = itertools.repeat
    try:
        import _collections
        ctx['count'] = _collections._count_elements
    except Exception:
        ctx['count'] = _count_py
    stdlib = '-'
    try:
        f = _safe_attr(ctx, ctx['os'], '__file__')
        if type(f) is str:
            stdlib = ctx['os'].path.dirname(f) + '/'
    except Exception:
        pass
    ctx['stdlib'] = stdlib
    ctx['gc_head'] = 16
    try:
        ctx['gc_head'] = max(0, ctx['sys'].getsizeof([]) - [].__sizeof__())
    except Exception:
        pass


def _count_py(d, it):
    for x in it:
        d[x] = d.get(x, 0) + 1


# ---- safe reading of target objects ---------------------------------------

def _s(ctx, v):
    """v as an exact str if it is a str (or subclass, copied by C code), else None."""
    if type(v) is str:
        return v
    try:
        if ctx['t_sub'](str, type(v)):
            return str.__str__(v)
    except Exception:
        pass
    return None


def _str(ctx, v):
    """An exact str for a name the program made (a code object's file or
    function name may be a str subclass with its own __eq__, __hash__)."""
    return v if type(v) is str else (_s(ctx, v) or '?')


def _lookup(ctx, t, name):
    """(True, value) if a class in type t's MRO defines name, else (False, None)."""
    for b in ctx['t_mro'](t):
        d = ctx['t_dict'](b)
        if name in d:
            return True, d[name]
    return False, None


def _safe_attr(ctx, o, name):
    """An instance attribute of o read without running its code, or None."""
    try:
        found, v = _lookup(ctx, type(o), name)
        if found and type(v) not in ctx['c_descr']:
            return None
        return object.__getattribute__(o, name)
    except Exception:
        return None


def _type_name(ctx, t):
    """'module.qualname' of type t, from type's own descriptors, cached."""
    cache = ctx['cache']
    k = cache.get(t)
    if k is None:
        try:
            mod = _s(ctx, ctx['t_mod'](t))
        except Exception:
            mod = None
        try:
            qual = _s(ctx, ctx['t_qual'](t))
        except Exception:
            qual = None
        k = _key((mod or '?') + '.' + (qual or '?'))
        cache[t] = k
    return k


def _func_name(ctx, f):
    """'MODULE.QUALNAME' of a function (or method, builtin), else None."""
    try:
        t = type(f)
        if t is ctx['meth']:
            f = ctx['m_func'](f)
            t = type(f)
        if t is ctx['func']:
            mod, qual = ctx['f_mod'](f), ctx['f_qual'](f)
        elif t is ctx['builtin']:
            mod, qual = ctx['b_mod'](f), ctx['b_qual'](f)
        else:
            return None
        return (_s(ctx, mod) or '?') + '.' + (_s(ctx, qual) or '?')
    except Exception:
        return None


def _sizeof(ctx, o):
    """sys.getsizeof(o) if its type's __sizeof__ is C code, else object.__sizeof__(o)
    plus the GC header; 0 if neither works."""
    t = type(o)
    modes = ctx['sizemode']
    safe = modes.get(t)
    if safe is None:
        try:
            found, v = _lookup(ctx, t, '__sizeof__')
            safe = found and type(v) in ctx['c_callables']
        except Exception:
            safe = False
        modes[t] = safe
    try:
        if safe:
            return ctx['sys'].getsizeof(o)
        return object.__sizeof__(o) + ctx['gc_head']
    except Exception:
        return 0


# ---- fields, lines, errors -------------------------------------------------

_CC = dict.fromkeys(list(range(32)) + list(range(127, 160)), '?')


def _key(s):
    """A name as kept and reported: control characters replaced, at most 256 bytes."""
    return _fb(s).decode('utf-8')


def _fb(s, cap=256):
    """Field bytes of str s: Cc characters -> '?', unencodable -> '?', cut to cap
    bytes on a character boundary, '-' if empty."""
    if len(s) > cap:
        s = s[:cap]
    b = s.translate(_CC).encode('utf-8', 'replace')
    if len(b) > cap:
        b = b[:cap].decode('utf-8', 'ignore').encode('utf-8')
    return b or b'-'


def _int(n):
    m = 2 ** 53 - 1
    return b'%d' % max(-m, min(m, int(n)))


def _site(fname, line):
    """FILE:LINE as a field: the file name cut so that the line stays."""
    tail = b':%d' % max(0, min(2 ** 53 - 1, line))
    return _fb(fname if type(fname) is str else '?', 256 - len(tail)) + tail


def _line(*fields):
    b = b'\t'.join(fields) + b'\n'
    return b if len(b) <= 1024 else None


def _add(ctx, *fields):
    ln = _line(*fields)
    if ln is not None:
        ctx['lines'].append(ln)


def _err(ctx, what, e):
    errs = ctx['errors']
    if len(errs) >= 8:
        return
    if type(e) is str:
        msg = e
    else:
        msg = _type_name(ctx, type(e))
        try:
            a = ctx['exc_args'](e)
            a0 = _s(ctx, a[0]) if type(a) is tuple and a else None
            if a0:
                msg += ': ' + a0[:300]
        except Exception:
            pass
    errs.append(_line(b'error', what.encode(), _fb(msg)))


def _assemble(ctx, token, phase, pause):
    import sys
    v = sys.version_info
    ver = '%d.%d.%d' % (v[0], v[1], v[2])
    if v[3] != 'final':
        ver += {'alpha': 'a', 'beta': 'b', 'candidate': 'rc'}.get(v[3], '') + '%d' % v[4]
    head = [_line(b'leakwatch-inspect', b'1', token.encode(), b'%d' % phase),
            _line(b'python', _fb(ver), _int(ctx['os'].getpid())),
            _line(b'pause', b'%.6f' % max(0.0, pause))]
    cap = 256 * 1024 - 4096    # room kept for the error lines and `end`
    out, size = list(head), sum(len(x) for x in head)
    for ln in ctx['lines']:
        if size + len(ln) > cap:
            _err(ctx, 'report', 'report cut at 256 KiB')
            break
        out.append(ln)
        size += len(ln)
    times = ctx.get('times')
    for i in range(1, len(times) if times else 0):
        out.append(_line(b'timing', _fb(times[i][0]), b'%.6f' % (times[i][1] - times[i - 1][1])))
    out.extend(x for x in ctx['errors'] if x)
    out.append(b'end\t%d\n' % len(out))
    return b''.join(out)


def _write(ctx, path, data):
    """One non-blocking write into the FIFO; give up silently on any error.
    SIGPIPE, if the program has not ignored it, is blocked and drained."""
    os = ctx['os']
    sig = None
    try:
        import _signal as signal         # not signal: its enums' import leaves garbage
        h = signal.getsignal(signal.SIGPIPE)     # the program's handler: not compared
        if not (type(h) is int and h == signal.SIG_IGN):
            sig = signal
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPIPE])
    except Exception:
        sig = None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        fd = -1
    try:
        if fd >= 0 and (os.fstat(fd).st_mode & 0o170000) == 0o010000:
            view, off = memoryview(data), 0
            while off < len(data):
                n = os.write(fd, view[off:])
                if n <= 0:
                    break
                off += n
    except OSError:
        pass
    finally:
        if fd >= 0:
            os.close(fd)
        if sig is not None:
            try:
                if sig.SIGPIPE in sig.sigpending():
                    sig.sigtimedwait([sig.SIGPIPE], 0)
                sig.pthread_sigmask(sig.SIG_UNBLOCK, [sig.SIGPIPE])
            except Exception:
                pass


# ---- state between the phases ------------------------------------------------

_EXPIRY = '''
def _release(d, token):
    """Drop token's state; stop tracemalloc if that inspection started it,
    unless another one borrowed it (then that one owns it now).  True if
    tracemalloc was stopped."""
    import sys, _tracemalloc
    st = d.pop(token, None) if type(d) is dict else None
    stopped = False
    if type(st) is dict and st.get('tm') == 'started':
        heir = [s for s in d.values() if type(s) is dict and s.get('tm') == 'borrowed']
        if heir:
            heir[0]['tm'] = 'started'
        elif _tracemalloc.is_tracing():
            _tracemalloc.stop()
            stopped = True
    if type(d) is dict and not d and sys.__dict__.get('_leakwatch_inspect') is d:
        try:
            del sys._leakwatch_inspect
        except Exception:
            pass
    return stopped
try:
    if _token is not None:
        import sys as _sys
        _stopped = _release(_sys.__dict__.get('_leakwatch_inspect'), _token)
except BaseException:
    pass
del _release   # no function -> globals cycle left behind
'''

# A child forked between the phases (multiprocessing, a pre-forking master)
# inherits tracemalloc and the state but not the expiry thread: it drops
# both at once.  Registered once per process (register_at_fork has no undo).
_FORK = '''
def _leakwatch_forked():
    import sys, _tracemalloc
    d = sys.__dict__.get('_leakwatch_inspect')
    if type(d) is not dict:
        return
    ours = any(type(s) is dict and s.get('tm') == 'started' for s in d.values())
    d.clear()
    try:
        del sys._leakwatch_inspect
    except Exception:
        pass
    if ours and _tracemalloc.is_tracing():
        _tracemalloc.stop()
'''


def _fork_hook(ctx):
    import builtins
    sysd = ctx['sys'].__dict__
    if sysd.get('_leakwatch_inspect_fork') is True:
        return
    g = {'__builtins__': builtins}
    exec(compile(_FORK, ctx['script'], 'exec'), g)
    ctx['os'].register_at_fork(after_in_child=g['_leakwatch_forked'])
    ctx['sys']._leakwatch_inspect_fork = True


def _store(ctx, create):
    sys = ctx['sys']
    d = sys.__dict__.get('_leakwatch_inspect')
    if type(d) is dict:
        return d
    if d is not None:
        _err(ctx, 'state', 'sys._leakwatch_inspect is not a dict')
        if not create:
            return None
    if not create:
        return None
    d = {}
    sys._leakwatch_inspect = d
    return d


def _release(ctx, store, token):
    """Run the expiry code now (phase 2); whether it stopped tracemalloc."""
    import builtins
    g = {'__builtins__': builtins, '_token': token}
    exec(ctx['expiry'], g)
    return g.get('_stopped', False)


def _start_timer(ctx, token, keep):
    import builtins
    import threading
    lock = _safe_attr(ctx, threading, '_active_limbo_lock')
    if lock is not None:
        # the thread we run in may hold it (we may have been called from inside
        # threading): starting a thread would then deadlock
        if not lock.acquire(False):
            raise RuntimeError('threading is busy in this thread')
        lock.release()
    try:
        _fork_hook(ctx)
    except Exception as e:
        _err(ctx, 'state', e)
    g = {'__builtins__': builtins, '_token': token}
    t = threading.Timer(keep + 60, exec, (ctx['expiry'], g))
    t.name = 'leakwatch-inspect-expiry'
    t.daemon = True
    t.start()
    return t


def _own_idents(ctx, store):
    ids = set()
    for st in list(store.values()) if store else ():
        if type(st) is dict and st.get('timer_ident') is not None:
            ids.add(st['timer_ident'])
    return ids


# ---- census ---------------------------------------------------------------------

def _own_objects(ctx, roots):
    """The tracked objects of ours reachable from roots through containers
    (bounded), and our frames: subtracted from the census."""
    import threading
    gc, sys = ctx['gc'], ctx['sys']
    allowed = {dict, list, tuple, set, frozenset, threading.Timer, threading.Event,
               threading.Condition, type((lambda x: lambda: x)(0).__closure__[0]),
               type(ctx['t_qual'])}
    try:
        import _collections
        allowed.add(_collections.deque)
    except Exception:
        pass
    script = ctx['script']
    out, seen, todo = [], set(), list(roots)
    # our frames are counted, not kept: a frame in a list held by one of
    # its own locals would be a cycle left behind
    f, boot, nframes = sys._getframe(0), 0, 0
    while f is not None:
        fn = _str(ctx, f.f_code.co_filename)
        if fn != script:
            if fn != '<string>' or boot >= 2:
                break
            boot += 1
        nframes += gc.is_tracked(f)
        f = f.f_back
    f = None
    ctx['own_frames'] = nframes
    first = set(map(id, todo))
    while todo and len(seen) < 5000:
        o = todo.pop()
        if id(o) in seen:
            continue
        t = type(o)
        if id(o) not in first:
            if t is ctx['func']:
                if ctx['f_mod'](o) != '__leakwatch__':
                    continue
            elif t not in allowed:
                continue
        seen.add(id(o))
        out.append(o)
        todo.extend(gc.get_referents(o))
    return [o for o in out if gc.is_tracked(o) and type(o) is not ctx['frame_t']]


def _objects(ctx, roots):
    """gc.get_objects() and the objects of ours among them; their types
    into ctx['types'] (one list: map(type) is slow before 3.10, where type()
    has no vectorcall, and every pass would pay it again)."""
    own = _own_objects(ctx, roots)
    objs = ctx['gc'].get_objects()
    ctx['types'] = list(map(type, objs))
    return objs, own


def _census(ctx, objs, own, extra):
    """{key: count} of the gc-tracked objects and of extra (objects found
    outside gc), ours excluded, at most 10000 keys (the rest under
    '<other>'), and the total of gc-tracked objects."""
    # while tracemalloc runs every new int of a count is a traced allocation
    # (~1 us): counts then start as floats, which their freelist recycles
    traced = ctx['tm_on']()
    types = ctx['types']
    by_type = dict.fromkeys(types, 0.0) if traced else {}
    ctx['count'](by_type, types)
    F = ctx['func']
    nfunc = by_type.pop(F, 0)
    fk = {}
    if nfunc:
        funcs = list(ctx['compress'](objs, map(ctx['is_'], types, ctx['repeat'](F))))
        pairs = zip(map(ctx['f_mod'], funcs), map(ctx['f_qual'], funcs))
        if traced:
            fk = dict.fromkeys(pairs, 0.0)
            pairs = zip(map(ctx['f_mod'], funcs), map(ctx['f_qual'], funcs))
        ctx['count'](fk, pairs)
        funcs = pairs = None
    keys = {}
    for t, n in by_type.items():
        k = _type_name(ctx, t)
        keys[k] = keys.get(k, 0) + int(n)
    fcache = ctx.setdefault('fcache', {})
    for mq, n in fk.items():
        k = _fkey(ctx, mq, fcache)
        keys[k] = keys.get(k, 0) + int(n)
    total = len(objs)
    for o in own:
        t = type(o)
        k = _fkey(ctx, (ctx['f_mod'](o), ctx['f_qual'](o)), fcache) if t is F else _type_name(ctx, t)
        if keys.get(k, 0) > 0:
            keys[k] -= 1
            total -= 1
    fk = _type_name(ctx, ctx['frame_t'])
    n = min(keys.get(fk, 0), ctx.get('own_frames', 0))
    if n:
        keys[fk] -= n
        total -= n
    for o in extra:
        k = _type_name(ctx, type(o))
        keys[k] = keys.get(k, 0) + 1
    if len(keys) > 10000:
        items = sorted(keys.items(), key=lambda kv: -kv[1])
        keys = dict(items[:9999])
        keys['<other>'] = keys.get('<other>', 0) + sum(n for _, n in items[9999:])
    return keys, max(0, total)


def _fkey(ctx, mq, fcache):
    k = fcache.get(mq)
    if k is None:
        if len(fcache) > 20000:
            fcache.clear()
        k = _key('function ' + (_s(ctx, mq[0]) or '?') + '.' + (_s(ctx, mq[1]) or '?'))
        fcache[mq] = k
    return k


# ---- threads ----------------------------------------------------------------------

def _stacks(ctx, own):
    """{signature: [count, ident]} of the threads' stacks (ours left out, our
    frames taken off the thread we run in), and a thread lookup."""
    sys = ctx['sys']
    script = ctx['script']
    me = _get_ident()
    groups = {}
    frames = sys._current_frames()
    n = 0
    for ident, f in frames.items():
        if ident in own:
            continue
        n += 1
        if ident == me:
            while f is not None and _str(ctx, f.f_code.co_filename) == script:
                f = f.f_back
            for _ in (0, 1):
                if f is not None and _str(ctx, f.f_code.co_filename) == '<string>' and \
                        _str(ctx, f.f_code.co_name) in ('<lambda>', '<module>'):
                    f = f.f_back
        sig = []
        while f is not None and len(sig) < 64:
            c = f.f_code
            sig.append((_str(ctx, c.co_filename), f.f_lineno or 0, _str(ctx, c.co_name)))
            f = f.f_back
        sig = tuple(sig)
        g = groups.get(sig)
        if g is None:
            if len(groups) >= 10000:
                continue
            groups[sig] = [1, ident]
        else:
            g[0] += 1
    frames = f = None
    ctx['nthreads'] = n
    return groups


def _get_ident():
    import _thread
    return _thread.get_ident()


def _thread_obj(ctx, ident):
    threading = ctx['sys'].modules.get('threading')
    if type(threading) is not ctx['module_t']:
        return None
    active = _safe_attr(ctx, threading, '_active')
    if type(active) is not dict:
        return None
    return active.get(ident)


def _thread_name(ctx, th):
    name = _s(ctx, _safe_attr(ctx, th, '_name')) if th is not None else None
    if not name:
        return '-'
    out, digits = [], False
    for ch in name[:300]:
        if '0' <= ch <= '9':
            if not digits:
                out.append('N')
            digits = True
        else:
            out.append(ch)
            digits = False
    return ''.join(out)


def _thread_target(ctx, th):
    if th is None:
        return '-'
    n = _func_name(ctx, _safe_attr(ctx, th, '_target'))
    if n is None:
        # a subclass's own run(), not Thread.run (which only calls the target)
        found, run = _lookup(ctx, type(th), 'run')
        base = ctx['sys'].modules['threading'].Thread.__dict__.get('run')
        if found and type(run) is ctx['func'] and run is not base:
            n = _func_name(ctx, run)
    return n or '-'


# ---- tracemalloc sites -----------------------------------------------------------

def _site_of(ctx, frames, skip_stdlib):
    """Index of the innermost frame of a raw traceback (most recent first) that
    is not importlib / tracemalloc / ours (nor stdlib with skip_stdlib); -1 if
    the traceback is ours or has no such frame."""
    script, stdlib = ctx['script'], ctx['stdlib']
    # the bootstrap: a one-line lambda called on line 1 of "<string>"
    # (PyRun_SimpleString's name); what it allocates (our compiled code) is ours
    if len(frames) >= 2 and all(_str(ctx, fr[0]) == '<string>' and fr[1] == 1 for fr in frames[:2]):
        return -1
    pick = -1
    for i, fr in enumerate(frames):
        fn = _str(ctx, fr[0])
        if fn == script:
            return -1
        if pick >= 0:
            continue
        if fn.startswith('<frozen importlib') or fn.endswith('/tracemalloc.py') or \
                (fn.startswith(stdlib) and fn[len(stdlib):].startswith('importlib/')):
            continue
        if skip_stdlib and (fn.startswith('<frozen ') or (fn.startswith(stdlib) and
                                                          'site-packages/' not in fn and
                                                          'dist-packages/' not in fn)):
            continue
        pick = i
    return pick


# Building the list of traces costs 0.3-0.65 us a block in C, folding it
# 0.15 us once tracemalloc is stopped, ~1.5 us while it runs (when it was
# the program's: every allocation of ours is traced then): past these many
# blocks the sites would break the GIL budget.
_MAX_TRACES = 300000
_MAX_TRACES_TRACED = 10000


def _traces(ctx, tm, cap, quiet=False):
    """tracemalloc's traces, or None (with an error line unless quiet) if
    there are more than cap to fold (estimated from tracemalloc's own
    memory: 50-80 bytes a trace)."""
    est = tm.get_tracemalloc_memory() // 64
    if est > cap:
        if not quiet:
            _err(ctx, 'tracemalloc', 'about %d blocks traced, over %d: sites not from the traces' % (est, cap))
        return None
    return tm._get_traces()


def _sites(ctx, traces):
    """{site bytes: [size, count, best size, frames]} of tracemalloc's traces,
    grouped by their site; our own allocations left out.  The sums are
    floats: a float's freelist makes no allocation for tracemalloc to trace."""
    # by the traceback tuple's identity (_get_traces shares one tuple per
    # traceback): its file names are the program's and are not hashed
    import operator
    tbof = operator.itemgetter(2)
    counts = dict.fromkeys(map(id, map(tbof, traces)), 0.0)
    ctx['count'](counts, map(id, map(tbof, traces)))
    sizes = dict.fromkeys(counts, 0.0)
    tbs = {}
    for tr in traces:
        k = id(tr[2])
        sizes[k] += tr[1]
        if k not in tbs:
            tbs[k] = tr[2]
    traces = None
    sites = {}
    for k, n in counts.items():
        size, tb = sizes[k], tbs[k]
        if not tb:
            continue
        i = _site_of(ctx, tb, False)
        if i < 0:
            continue
        key = (_str(ctx, tb[i][0]), tb[i][1])   # formatted for the top ones only
        s = sites.get(key)
        if s is None:
            if len(sites) >= 10000:
                continue
            sites[key] = [size, n, size, tb[i:]]
        else:
            s[0] += size
            s[1] += n
            if size > s[2]:
                s[2], s[3] = size, tb[i:]
    for v in sites.values():
        v[0], v[1] = int(v[0]), int(v[1])
    return sites


def _sampled_sites(ctx, tm, objs):
    """When the traces are too many: the sites of a strided sample of at most
    4000 gc-tracked objects, those with a traceback (made since tracemalloc
    started, in phase 1) scaled up by the stride; same shape as _sites."""
    step = max(1, len(objs) // 4000)
    sites = {}
    for o in objs[::step]:
        try:
            tb = tm._get_object_traceback(o)
        except Exception:
            continue
        if not tb:
            continue
        i = _site_of(ctx, tb, False)
        if i < 0:
            continue
        key = (_str(ctx, tb[i][0]), tb[i][1])
        size = _sizeof(ctx, o) * step
        s = sites.get(key)
        if s is None:
            if len(sites) >= 1000:
                continue
            sites[key] = [size, step, size, tb[i:]]
        else:
            s[0] += size
            s[1] += step
    return sites


def _tb_site(ctx, tb):
    """FILE:LINE of an object's allocation: the innermost frame not in the
    stdlib (else the innermost), '-' if unknown or ours."""
    if not tb:
        return b'-'
    i = _site_of(ctx, tb, True)
    if i < 0:
        i = 0 if _site_of(ctx, tb, False) >= 0 else -1
    return _site(tb[i][0], tb[i][1]) if i >= 0 else b'-'


# ---- phase 1 ------------------------------------------------------------------------

def _phase1(ctx, cfg):
    token, keep = cfg['token'], cfg['keep']
    ctx['expiry'] = compile(_EXPIRY, ctx['script'], 'exec')
    try:
        store = _store(ctx, True)
        old = store.get(token)
        if type(old) is dict and old.get('timer') is not None:
            old['timer'].cancel()
        st = {'t1': 0.0, 'census': {}, 'objects': 0, 'heap': 0, 'tm': 'failed',
              'stacks': {}, 'sites': {}, 'timer': None, 'timer_ident': None}
        if type(old) is dict and old.get('tm') in ('started', 'borrowed'):
            st['tm'] = old['tm']     # phase 1 again: keep what we know of tracemalloc
        store[token] = st
    except Exception as e:
        _err(ctx, 'state', e)
        return
    try:
        t = _start_timer(ctx, token, keep)
        st['timer'], st['timer_ident'] = t, t.ident
    except Exception as e:
        _err(ctx, 'state', e)
    own = _own_idents(ctx, store)
    # the stacks first: on 3.11+ reading them makes frame objects, which
    # must be there in both censuses
    nthreads = 0
    try:
        groups = _stacks(ctx, own)
        st['stacks'] = dict((hash(sig), g[0]) for sig, g in groups.items())
        nthreads = ctx.get('nthreads', 0)
        groups = None
    except Exception as e:
        _err(ctx, 'threads', e)
    _tick(ctx, 'stacks')
    objs = None
    try:
        objs, own_objs = _objects(ctx, [globals(), ctx, cfg, store])
        census, total = _census(ctx, objs, own_objs, _untracked(ctx, objs))
        st['census'], st['objects'] = census, total
    except Exception as e:
        _err(ctx, 'census', e)
    own_objs = census = None
    ctx['types'] = None
    _tick(ctx, 'census')
    st['t1'] = _now()
    heap = 0
    try:
        import _tracemalloc as tm
        if tm.is_tracing():
            if st['tm'] not in ('started', 'borrowed'):
                mine = [s for s in store.values() if type(s) is dict and s is not st
                        and s.get('tm') == 'started']
                st['tm'] = 'borrowed' if mine else 'running'
            heap = tm.get_traced_memory()[0]
            # the program's tracemalloc: all its blocks are traced, and every
            # allocation of ours is too; past a few traces, sample objects
            traces = _traces(ctx, tm, _MAX_TRACES_TRACED, quiet=True)
            if traces is not None:
                now = _sites(ctx, traces)
            else:
                now = _sampled_sites(ctx, tm, objs or [])
                st['sampled'] = True
            traces = None
            # kept as {hash of (file, line): size} and {...: count}: ints only
            st['sites'] = (dict((hash(k), v[0]) for k, v in now.items()),
                           dict((hash(k), v[1]) for k, v in now.items()))
            now = None
        else:
            st['tm'] = 'failed'
            tm.start(8)
            st['tm'] = 'started'
    except Exception as e:
        _err(ctx, 'tracemalloc', e)
    objs = None
    st['heap'] = heap
    _tick(ctx, 'tracemalloc')
    shown = {'started': b'started', 'running': b'running', 'borrowed': b'running'}
    _add(ctx, b'tracemalloc', shown.get(st['tm'], b'failed'))
    _add(ctx, b'heap', _int(heap))
    _add(ctx, b'objects', _int(st['objects']))
    _add(ctx, b'threads', _int(nthreads))


# ---- phase 2 ------------------------------------------------------------------------

def _phase2(ctx, cfg):
    token = cfg['token']
    ctx['expiry'] = compile(_EXPIRY, ctx['script'], 'exec')
    store = _store(ctx, False)
    st = store.get(token) if store is not None else None
    try:
        import _tracemalloc as tm
        tracing = tm.is_tracing()
    except Exception as e:
        _err(ctx, 'tracemalloc', e)
        tm, tracing = None, False
    if type(st) is not dict:
        _add(ctx, b'tracemalloc', b'running' if tracing else b'off')
        _err(ctx, 'state', 'no state from phase 1 (expired or never run)')
        return
    if not tracing and st.get('tm') != 'failed':
        _err(ctx, 'tracemalloc', 'tracemalloc was stopped by the program between the phases')
    # first what needs tracemalloc (the files' tracebacks, the traces), then
    # stop it if it is ours: every allocation traced costs ~1 us.  The
    # objects are listed before the traces are built (else the census would
    # count the traces' tuples); our own allocations are told apart in them.
    heap_end = 0
    if tracing:
        try:
            heap_end = tm.get_traced_memory()[0]
        except Exception as e:
            _err(ctx, 'tracemalloc', e)
    own = _own_idents(ctx, store)
    objs, own_objs, untracked = None, [], []
    try:
        objs, own_objs = _objects(ctx, [globals(), ctx, cfg, store])
        untracked = _untracked(ctx, objs)
    except Exception as e:
        _err(ctx, 'census', e)
    _tick(ctx, 'objects')
    found, nfound, ftypes = [], 0, {}
    try:
        if objs is not None:
            found, nfound, ftypes = _file_objects(ctx, objs, untracked, tm if tracing else None)
    except Exception as e:
        _err(ctx, 'files', e)
    traces, sampled = None, None
    if tracing:
        try:
            if st.get('tm') == 'started':
                traces = _traces(ctx, tm, _MAX_TRACES)
                if traces is None and objs is not None:
                    sampled = _sampled_sites(ctx, tm, objs)
                    _err(ctx, 'tracemalloc', 'sites estimated from the tracebacks of %d sampled objects'
                         % min(len(objs), 4000))
            elif st.get('sampled') and objs is not None:
                sampled = _sampled_sites(ctx, tm, objs)
                _err(ctx, 'tracemalloc', 'sites estimated from the tracebacks of sampled objects'
                     ' (the program\'s tracemalloc traces too many blocks)')
            else:
                traces = _traces(ctx, tm, _MAX_TRACES_TRACED * 2)
        except Exception as e:
            _err(ctx, 'tracemalloc', e)
    _tick(ctx, 'files+traces')
    state = b'running' if tracing else b'off'
    try:
        if st.get('timer') is not None:
            st['timer'].cancel()
        if tracing and _stop_ours(ctx, store, st, tm):
            state = b'stopped'
    except Exception as e:
        _err(ctx, 'tracemalloc', e)
    _tick(ctx, 'stop')
    sites = []
    try:
        if traces is not None:
            sites = _site_lines(ctx, _sites(ctx, traces), st['sites'])
        elif sampled is not None:
            sites = _site_lines(ctx, sampled, st['sites'] if st.get('sampled') else None)
    except Exception as e:
        _err(ctx, 'tracemalloc', e)
    traces = sampled = None
    _tick(ctx, 'sites')
    census, total = {}, 0
    try:
        if objs is not None:
            census, total = _census(ctx, objs, own_objs, untracked)
    except Exception as e:
        _err(ctx, 'census', e)
    own_objs = untracked = None
    _tick(ctx, 'census')
    elapsed = _now() - st['t1']
    grown = []
    try:
        c1 = st['census']
        grown = [(n - c1.get(k, 0), k, c1.get(k, 0), n) for k, n in census.items() if n > c1.get(k, 0)]
        grown.sort(key=lambda g: (-g[0], g[1]))
        grown = grown[:20]
    except Exception as e:
        _err(ctx, 'census', e)
    census = None
    types, refs, files = [], [], []
    try:
        if objs is not None:
            types, refs = _sample(ctx, objs, grown)
    except Exception as e:
        _err(ctx, 'census', e)
    objs = ctx['types'] = None
    _tick(ctx, 'sample')
    try:
        if ftypes:
            files = _files(ctx, found, nfound, ftypes)
    except Exception as e:
        _err(ctx, 'files', e)
    found = None
    stacks = []
    try:
        stacks = _stack_lines(ctx, _stacks(ctx, own), st['stacks'])
    except Exception as e:
        _err(ctx, 'threads', e)
    _tick(ctx, 'files+stacks')
    try:
        if _release(ctx, store, token):
            state = b'stopped'
    except Exception as e:
        _err(ctx, 'state', e)
    _add(ctx, b'elapsed', b'%.6f' % max(0.0, elapsed))
    _add(ctx, b'tracemalloc', state)
    _add(ctx, b'heap', _int(st.get('heap', 0) if tracing else 0), _int(heap_end))
    _add(ctx, b'objects', _int(st.get('objects', 0)), _int(total))
    for part in (types, refs, sites, stacks, files):
        ctx['lines'].extend(x for x in part if x)


def _stop_ours(ctx, store, st, tm):
    """Stop tracemalloc now if this inspection started it, unless another one
    borrowed it (it then owns it).  True if stopped."""
    if st.get('tm') != 'started':
        return False
    heir = [s for s in store.values() if type(s) is dict and s is not st and s.get('tm') == 'borrowed']
    st['tm'] = 'handed'
    if heir:
        heir[0]['tm'] = 'started'
        return False
    tm.stop()
    return True


def _site_lines(ctx, now, before):
    """site and frame lines: the sites that grew most since phase 1 (before:
    phase 1's ({hash: size}, {hash: count}), or None)."""
    out = []
    rows = []
    bs, bn = before if before else ({}, {})
    for k, v in now.items():
        h = hash(k)
        d = v[0] - bs.get(h, 0)
        if d > 0:
            rows.append((d, v[1] - bn.get(h, 0), k, v))
    rows.sort(key=lambda r: -r[0])
    for d, dn, k, v in rows[:10]:
        ln = _line(b'site', _site(k[0], k[1]), _int(d), _int(dn), _int(v[0]), _int(v[1]))
        if ln is None:
            continue
        out.append(ln)
        for fr in tuple(reversed(v[3]))[-8:]:
            f = _line(b'frame', _site(fr[0], fr[1]), b'-')
            if f is not None:
                out.append(f)
    return out


def _sample(ctx, objs, grown):
    """type lines (with the sampled mean size) and referent lines for the top 5."""
    want, need, samples, fwant = {}, {}, {}, False
    inv = {}
    for t, k in ctx['cache'].items():
        inv.setdefault(k, []).append(t)
    for i, (d, k, c1, c2) in enumerate(grown):
        if k == '<other>':
            continue
        need[k] = 200 if i < 5 else 100
        samples[k] = []
        if k.startswith('function '):
            fwant = True
        for t in inv.get(k, ()):
            want[t] = k
    F = ctx['func']
    if fwant:
        want[F] = None
    fcache = ctx.get('fcache', {})
    left = len(need)
    fmod, fqual = ctx['f_mod'], ctx['f_qual']
    # newest first (the tail of the oldest generation), in chunks: the
    # types not wanted (or whose sample is full) are skipped in C
    end = len(objs)
    types = ctx['types']
    while left > 0 and end > 0 and want:
        lo = max(0, end - 65536)
        chunk, tchunk = objs[lo:end], types[lo:end]
        end = lo
        chunk.reverse()
        tchunk.reverse()
        wset = frozenset(want)
        for o in ctx['compress'](chunk, map(wset.__contains__, tchunk)):
            k = want.get(type(o), '')
            if k == '':
                continue                  # its sample filled in this chunk
            if k is None:
                k = _fkey(ctx, (fmod(o), fqual(o)), fcache)
                if k not in need:
                    continue
            lst = samples[k]
            if len(lst) < need[k]:
                lst.append(o)
                if len(lst) == need[k]:
                    left -= 1
                    if k.startswith('function '):
                        continue
                    for t in [t for t, v in want.items() if v == k]:
                        del want[t]
            if left <= 0:
                break
        chunk = tchunk = None
    types, refs = [], []
    for i, (d, k, c1, c2) in enumerate(grown):
        lst = samples.get(k) or []
        size = 0
        if lst:
            few = lst[:100]
            size = sum(_sizeof(ctx, o) for o in few) * d // len(few)
        ln = _line(b'type', _fb(k), _int(c1), _int(c2), _int(size))
        if ln is not None:
            types.append(ln)
        if i < 5 and lst:
            refs.extend(_referents(ctx, k, lst, d))
    return types, refs[:40]


def _referents(ctx, owner, lst, grow):
    """referent lines of one grown type: what its sampled objects refer to,
    at most 5000 referents looked at (a big container's strided, weighted)."""
    gc = ctx['gc']
    F = ctx['func']
    fcache = ctx.get('fcache', {})
    cache = ctx['cache']
    acc = {}
    per = max(1, 5000 // len(lst))
    for o in lst:
        t0 = type(o)
        refs = gc.get_referents(o)
        w = 1
        if len(refs) > per:
            w = len(refs) / per
            refs = refs[::max(1, len(refs) // per)][:per]
        for r in refs:
            t = type(r)
            if r is t0:
                continue
            if t is F:
                k = _fkey(ctx, (ctx['f_mod'](r), ctx['f_qual'](r)), fcache)
            else:
                k = cache.get(t) or _type_name(ctx, t)
            a = acc.get(k)
            if a is None:
                if len(acc) >= 1000:
                    continue
                acc[k] = a = [0, 0]
            a[0] += w
            a[1] += _sizeof(ctx, r) * w
    refs = None
    rows = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))[:8]
    out = []
    n = len(lst)
    for k, (c, s) in rows:
        if c * grow // n <= 0:
            continue
        ln = _line(b'referent', _fb(owner), _fb(k), _int(c * grow // n), _int(s * grow // n))
        if ln is not None:
            out.append(ln)
    return out


def _stack_lines(ctx, groups, before):
    rows = sorted(groups.items(), key=lambda kv: -kv[1][0])[:10]
    out = []
    for sig, (n, ident) in rows:
        th = _thread_obj(ctx, ident)
        ln = _line(b'stack', _int(n), _int(before.get(hash(sig), 0)),
                   _fb(_thread_name(ctx, th)), _fb(_thread_target(ctx, th)))
        if ln is None:
            continue
        out.append(ln)
        for fn, lineno, name in reversed(sig[:12]):
            f = _line(b'frame', _site(fn, lineno), _fb(name if type(name) is str else '?'))
            if f is not None:
                out.append(f)
    return out


# ---- open files, sockets, sqlite connections ---------------------------------------

def _kinds(ctx):
    """[(kind, base type)] of the file-like types loaded in the process."""
    mods = ctx['sys'].modules
    out = []
    io = mods.get('_io')
    if io is not None:
        out.append(('file', _safe_attr(ctx, io, 'FileIO')))
    so = mods.get('_socket')
    if so is not None:
        out.append(('socket', _safe_attr(ctx, so, 'socket')))
    sq = mods.get('_sqlite3')
    if sq is not None:
        out.append(('sqlite', _safe_attr(ctx, sq, 'Connection')))
    return [(k, t) for k, t in out if type(t) is type]


def _file_types(ctx):
    """{type: (kind, base)}: the file kinds' types and all their subclasses."""
    sub = ctx['t_dict'](type)['__subclasses__']
    types = {}
    for kind, base in _kinds(ctx):
        todo = [base]
        while todo and len(types) < 1000:
            t = todo.pop()
            if t in types:
                continue
            types[t] = (kind, base)
            todo.extend(sub(t))
    return types


def _file_objects(ctx, objs, untracked, tm):
    """[(object, raw traceback or None)] of the file kinds (the newest 20000),
    and how many there are in all.  Done while tracemalloc still runs."""
    types = _file_types(ctx)
    gcd = frozenset(t for t in types if _is_gc(ctx, t))
    found = list(ctx['compress'](objs, map(gcd.__contains__, ctx['types']))) if gcd else []
    found.extend(untracked)
    n = len(found)
    found = found[-20000:]
    out = []
    for o in found:
        tb = None
        if tm is not None:
            try:
                tb = tm._get_object_traceback(o)
            except Exception:
                tb = None
        out.append((o, tb))
    return out, n, types


def _files(ctx, found, n, types):
    """The file lines and the files line."""
    groups, total = {}, n - len(found)       # beyond the newest 20000: counted only
    for o, tb in found:
        kind, base = types[type(o)]
        name = _file_name(ctx, kind, base, o)
        if name is None:
            continue                         # closed
        total += 1
        key = (kind, name, _tb_site(ctx, tb))
        groups[key] = groups.get(key, 0) + 1
    out = []
    for (kind, name, site), c in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))[:20]:
        ln = _line(b'file', kind.encode(), name, _int(c), site)
        if ln is not None:
            out.append(ln)
    out.append(_line(b'files', _int(max(0, total))))
    return out


def _is_gc(ctx, t):
    return bool(ctx['t_dict'](type)['__flags__'].__get__(t) & (1 << 14))


# Scanning the referents of every object costs ~0.7 us an object.
_MAX_SCAN = 200000


def _untracked(ctx, objs):
    """The objects of the file kinds whose type gc does not track, found
    among the referents of the tracked objects (in chunks: bounded memory)."""
    gc = ctx['gc']
    want = [t for k, t in _kinds(ctx) if not _is_gc(ctx, t)]
    if not want:
        return []
    if len(objs) > _MAX_SCAN:
        _err(ctx, 'census', 'objects of %s not counted (not tracked by gc; over %d objects to scan)'
             % (_type_name(ctx, want[0]), _MAX_SCAN))
        return []
    found, seen = [], set()
    for i in range(0, len(objs), 4096):
        refs = gc.get_referents(*objs[i:i + 4096])
        for t in want:
            for o in ctx['compress'](refs, map(ctx['is_'], map(type, refs), ctx['repeat'](t))):
                if id(o) not in seen:
                    seen.add(id(o))
                    found.append(o)
    return found


def _file_name(ctx, kind, base, o):
    """The NAME field of an open file object, None if it is closed."""
    if kind == 'file':
        if base.__dict__['closed'].__get__(o):
            return None
        n = _safe_attr(ctx, o, 'name')
        if type(n) is int:
            return _fb('fd %d' % n)
        if type(n) is bytes:
            return _fb(n.decode('utf-8', 'replace'))
        n = _s(ctx, n)
        return _fb(n) if n else b'-'
    if kind == 'socket':
        fd = base.__dict__['fileno'](o)
        if fd < 0:
            return None
        fam = base.__dict__['family'].__get__(o)
        return _fb(_family(ctx, fam) + ' ' + _peer(ctx, base, o, fam))
    try:
        base.__dict__['in_transaction'].__get__(o)   # no sqlite lock taken
    except Exception:
        return None                                  # closed
    return b'-'


def _family(ctx, fam):
    so = ctx['sys'].modules.get('_socket')
    for n in ('AF_INET', 'AF_INET6', 'AF_UNIX', 'AF_NETLINK', 'AF_PACKET'):
        v = _safe_attr(ctx, so, n)
        if type(v) is int and v == fam:
            return n
    return 'AF_%d' % fam


def _peer(ctx, base, o, fam):
    try:
        p = base.__dict__['getpeername'](o)
    except Exception:
        return 'unconnected'
    if type(p) is tuple and len(p) >= 2 and type(p[0]) is str and type(p[1]) is int:
        return ('[%s]:%d' if ':' in p[0] else '%s:%d') % (p[0], p[1])
    if type(p) is str:
        return p or 'unconnected'
    if type(p) is bytes:
        return p.decode('utf-8', 'replace') or 'unconnected'
    return '-'


def _finish(g, pending):
    """Empty our globals (else they and our functions are a cycle left for
    the collector), then hand back what the program's signal handler raised:
    a KeyboardInterrupt goes to the main thread as a new SIGINT would, a
    SystemExit is raised (the interpreter then exits, as the handler meant)."""
    ki = type(pending) is KeyboardInterrupt
    ex = type(pending) is SystemExit
    g.clear()
    if ki:
        import _thread
        _thread.interrupt_main()
    elif ex:
        raise pending


# Run; whatever happens, leave nothing but the state.
try:
    _pending = _main(LEAKWATCH)
except BaseException:
    _pending = None
_finish(globals(), _pending)

#!/usr/bin/python3
"""t/root/setuid_fails.py UID COMMAND [ARG...]: run COMMAND (as root) with
a seccomp filter under which setuid(), setreuid() and setresuid() to UID
fail with EAGAIN, and every other call, other uids' included, works.

t/root/daemon_users.t needs a setuid() that fails for one user, the shape
of mod_wsgi's CVE-2014-8583 (a daemon left running as root when setuid()
failed).  That CVE's trigger, RLIMIT_NPROC, no longer makes setuid() fail
on Linux since 3.1 (the kernel defers the check to execve(), which a
daemon never calls), so the failure is made directly, as the kernel
returned it then.  The filter is inherited by every process COMMAND
forks: Apache's parent, its children (who switch to another uid, not
UID) and the daemon processes.

Exit status 3 when this kernel or architecture cannot do it (the test
then skips that part, saying why)."""
import ctypes
import errno
import os
import platform
import struct
import sys

# Per architecture: AUDIT_ARCH_*, then each call with the arguments that
# name a uid it would switch to.
ARCHES = {
    'x86_64': (0xC000003E, {105: (0,), 113: (0, 1), 117: (0, 1, 2)}),
    'aarch64': (0xC00000B7, {146: (0,), 145: (0, 1), 147: (0, 1, 2)}),
}

BPF_LD_W_ABS = 0x00 | 0x00 | 0x20
BPF_JEQ_K = 0x05 | 0x10 | 0x00
BPF_RET_K = 0x06 | 0x00
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# struct seccomp_data: nr, arch, instruction_pointer, args[6] (the low
# half of each is at its offset: these are little-endian machines).
OFF_NR, OFF_ARCH, OFF_ARGS = 0, 4, 16


def program(audit_arch, calls, uid):
    # Instructions with symbolic jump targets, resolved below.
    code = [('ld', OFF_ARCH), ('jeq', audit_arch, None, 'allow')]
    for nr, args in calls.items():
        code += [('ld', OFF_NR), ('jeq', nr, None, 'next%d' % nr)]
        for a in args:
            code += [('ld', OFF_ARGS + 8 * a), ('jeq', uid, 'deny', None)]
        code.append(('label', 'next%d' % nr))
    code += [('label', 'allow'), ('ret', SECCOMP_RET_ALLOW),
             ('label', 'deny'), ('ret', SECCOMP_RET_ERRNO | errno.EAGAIN)]
    labels, pos = {}, 0
    for ins in code:
        if ins[0] == 'label':
            labels[ins[1]] = pos
        else:
            pos += 1
    out, pos = [], 0
    for ins in code:
        if ins[0] == 'label':
            continue
        pos += 1
        if ins[0] == 'ld':
            out.append(struct.pack('=HBBI', BPF_LD_W_ABS, 0, 0, ins[1]))
        elif ins[0] == 'ret':
            out.append(struct.pack('=HBBI', BPF_RET_K, 0, 0, ins[1]))
        else:
            jt = labels[ins[2]] - pos if ins[2] else 0
            jf = labels[ins[3]] - pos if ins[3] else 0
            out.append(struct.pack('=HBBI', BPF_JEQ_K, jt, jf, ins[1]))
    return b''.join(out), len(out)


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: setuid_fails.py UID COMMAND [ARG...]')
    uid = int(sys.argv[1])
    arch = ARCHES.get(platform.machine())
    if not arch:
        print('setuid_fails.py: no seccomp table for %s' % platform.machine(),
              file=sys.stderr)
        sys.exit(3)
    insns, count = program(arch[0], arch[1], uid)
    buf = ctypes.create_string_buffer(insns, len(insns))
    fprog = struct.pack('=HxxxxxxQ', count, ctypes.addressof(buf))
    fprog_buf = ctypes.create_string_buffer(fprog, len(fprog))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                  ctypes.addressof(fprog_buf), 0, 0) != 0:
        print('setuid_fails.py: cannot install the filter: %s'
              % os.strerror(ctypes.get_errno()), file=sys.stderr)
        sys.exit(3)
    os.execv(sys.argv[2], sys.argv[2:])


main()

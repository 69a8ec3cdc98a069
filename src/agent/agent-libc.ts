import { dlopen, FFIType, read } from "bun:ffi";

/**
 * The libc calls behind the agent's unix datagram socket, which neither Bun nor Node can
 * bind, and behind the spool directory's inotify watch.
 */
function openAgentLibc() {
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    setsockopt: {
      args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i32,
    },
    recvmsg: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i64_fast },
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
    send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64_fast },
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64_fast,
    },
    poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    shutdown: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
    // fcntl is variadic; every command used here takes one integer argument.
    fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i64], returns: FFIType.i32 },
    inotify_init1: { args: [FFIType.i32], returns: FFIType.i32 },
    inotify_add_watch: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    isatty: { args: [FFIType.i32], returns: FFIType.i32 },
    sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    umask: { args: [FFIType.u32], returns: FFIType.u32 },
    strerror: { args: [FFIType.i32], returns: FFIType.cstring },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const sys = libc.symbols;

  return {
    sys,
    /** The calling thread's `errno`, valid right after a call that returned -1. */
    errno(): number {
      const location = sys.__errno_location();
      return location === null ? 0 : read.i32(location, 0);
    },
    /** The text libc gives for an errno value. */
    describeErrno(code: number): string {
      return String(sys.strerror(code));
    },
  };
}

/** The agent's libc bindings, as `openAgentLibc` returns them. */
export type AgentLibc = ReturnType<typeof openAgentLibc>;

let shared: AgentLibc | undefined;

/** One set of bindings for the whole process, opened on first use. */
export function agentLibc(): AgentLibc {
  shared ??= openAgentLibc();
  return shared;
}

/** Linux constants the socket code needs; the same on x86_64 and arm64. */
export const LINUX = {
  AF_UNIX: 1,
  SOCK_DGRAM: 2,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_PASSCRED: 16,
  SO_RCVBUF: 8,
  SCM_RIGHTS: 1,
  SCM_CREDENTIALS: 2,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  SOCK_NONBLOCK: 0o4000,
  POLLIN: 0x1,
  POLLOUT: 0x4,
  MSG_CTRUNC: 0x8,
  MSG_CMSG_CLOEXEC: 0x40000000,
  SHUT_RDWR: 2,
  EINTR: 4,
  EAGAIN: 11,
  EBADF: 9,
  F_GETFL: 3,
  F_SETFL: 4,
  SCHED_BATCH: 3,
  F_SETOWN: 8,
  F_SETOWN_EX: 15,
  O_NONBLOCK: 0o4000,
  O_ASYNC: 0o20000,
  IN_NONBLOCK: 0o4000,
  IN_CLOEXEC: 0o2000000,
  IN_CLOSE_WRITE: 0x8,
  IN_MOVED_TO: 0x80,
  IN_DELETE_SELF: 0x400,
  IN_MOVE_SELF: 0x800,
  IN_Q_OVERFLOW: 0x4000,
  IN_IGNORED: 0x8000,
  IN_ONLYDIR: 0x1000000,
  ENOENT: 2,
  ECONNREFUSED: 111,
  EADDRINUSE: 98,
  SUN_PATH_BYTES: 108,
} as const;

/**
 * Builds a `struct sockaddr_un` for a filesystem path.
 *
 * @returns The address, or `undefined` when the path does not fit in `sun_path` (107 bytes).
 */
export function unixSocketAddress(path: string): Uint8Array | undefined {
  const pathBytes = new TextEncoder().encode(path);
  if (pathBytes.length === 0 || pathBytes.length >= LINUX.SUN_PATH_BYTES) return undefined;
  const address = new Uint8Array(2 + pathBytes.length + 1);
  new DataView(address.buffer).setUint16(0, LINUX.AF_UNIX, true);
  address.set(pathBytes, 2);
  return address;
}

import { linuxCall, pointerTo } from "./hook-libc.ts";

/** Linux socket constants the hook needs; the same on x86_64 and arm64. */
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const EINTR = 4;
export const ENOENT = 2;
export const EAGAIN = 11;
export const ECONNREFUSED = 111;
/** The size of `sun_path` in `struct sockaddr_un`. */
export const SUN_PATH_BYTES = 108;

/**
 * Waits up to `timeoutMs` for `events` on one descriptor, with `ppoll` (arm64 has no
 * `poll`). What happened is not returned: the caller tries its call again and sees.
 *
 * @param timeoutMs A positive whole number of milliseconds, below 2^31.
 */
export function waitForEvents(fd: number, events: number, timeoutMs: number): void {
  // struct pollfd { int fd; short events; short revents; }, revents starting at zero.
  const pollFd = new Int32Array(2);
  pollFd[0] = fd;
  pollFd[1] = events;
  // struct timespec { long tv_sec; long tv_nsec; }, 64-bit little-endian halves on x86_64
  // and arm64, the high ones zero. `| 0` rather than Math.floor: the first use of Math
  // costs the hook ~40 µs.
  const seconds = (timeoutMs / 1000) | 0;
  const timeout = new Int32Array(4);
  timeout[0] = seconds;
  timeout[2] = (timeoutMs - seconds * 1000) * 1_000_000;
  // No signal mask, so the kernel ignores the mask size.
  linuxCall("ppoll", pointerTo(pollFd), 1, pointerTo(timeout), 0, 0);
}

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

import { dlopen, FFIType, read } from "bun:ffi";

/**
 * The few libc calls the hook makes. Every symbol costs start-up time (Bun compiles a
 * trampoline for each), so this list holds only what sending one datagram needs.
 */
const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
});

/** The libc functions, called directly. */
export const sys = libc.symbols;

/** The calling thread's `errno`, valid right after a call that returned -1. */
export function errno(): number {
  const location = sys.__errno_location();
  return location === null ? 0 : read.i32(location, 0);
}

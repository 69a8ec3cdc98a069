import type { dlopen, read } from "bun:ffi";

/** The part of `bun:ffi` the hook uses. */
interface Ffi {
  dlopen: typeof dlopen;
  read: typeof read;
}

/**
 * Finds the FFI functions. `Bun.FFI` is the native object that the `bun:ffi` module wraps:
 * the module's `dlopen` and `read` are its own, behind a path check. Importing the module
 * compiles its JavaScript at every start, 0.1 to 0.2 ms of a run whose budget is 1.2 times
 * an empty program's 3 ms, so the hook takes the native object and loads the module only
 * if a Bun upgrade removed it.
 */
function findFfi(): Ffi {
  const native: unknown = Reflect.get(Bun, "FFI");
  if (isFfi(native)) return native;
  return import.meta.require("bun:ffi");
}

function isFfi(value: unknown): value is Ffi {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof Reflect.get(value, "dlopen") === "function" &&
    typeof Reflect.get(value, "read") === "object"
  );
}

/**
 * The few libc calls the hook makes. Every symbol costs start-up time (Bun generates call
 * thunks for each), so this list holds only what reading the environment, sending one
 * datagram and hearing a probe's answer need.
 */
function openLibc() {
  const library = findFfi().dlopen("libc.so.6", {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    send: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    open: { args: ["ptr", "i32"], returns: "i32" },
    read: { args: ["i32", "ptr", "u64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  });
  // The native dlopen returns its error where the module's would throw it.
  if (library instanceof Error) throw library;
  return library.symbols;
}

let opened: ReturnType<typeof openLibc> | undefined;

/**
 * The libc functions, called directly; pointer arguments take a `Uint8Array` as is.
 * libc is opened on first use, not at import, so that a failure to open it is thrown
 * inside the hook's catch-all rather than printed at start-up.
 *
 * @throws When `libc.so.6` cannot be opened.
 */
export function libc(): ReturnType<typeof openLibc> {
  opened ??= openLibc();
  return opened;
}

/** The calling thread's `errno`, valid right after a call that returned -1. */
export function errno(): number {
  const location = libc().__errno_location();
  return location === null ? 0 : findFfi().read.i32(location, 0);
}

import type { FFIType, dlopen, ptr, read } from "bun:ffi";

/** The part of `bun:ffi` the hook uses. */
interface Ffi {
  dlopen: typeof dlopen;
  ptr: typeof ptr;
  read: typeof read;
}

/**
 * `Bun` with what its types leave out: the native FFI object, when this Bun has one.
 * `version`, which every Bun has, lets TypeScript accept `Bun` as this type.
 */
interface BunWithFfi {
  version: string;
  FFI?: unknown;
}

/**
 * Finds the FFI functions. `Bun.FFI` is the native object that the `bun:ffi` module wraps:
 * the module's `dlopen`, `ptr` and `read` are its own, behind a path check. Importing the
 * module compiles its JavaScript at every start, 0.1 to 0.2 ms of a run whose budget is 1.2
 * times an empty program's 3 ms, so the hook takes the native object and loads the module
 * only if a Bun upgrade removed it. Plain property reads, not `Reflect.get`: the first use
 * of `Reflect` costs the hook about 50 µs.
 */
function findFfi(): Ffi {
  const bun: BunWithFfi = Bun;
  const native = bun.FFI;
  if (isFfi(native)) return native;
  return import.meta.require("bun:ffi");
}

function isFfi(value: unknown): value is Ffi {
  return (
    typeof value === "object" &&
    value !== null &&
    "dlopen" in value &&
    typeof value.dlopen === "function" &&
    "ptr" in value &&
    typeof value.ptr === "function" &&
    "read" in value &&
    typeof value.read === "object"
  );
}

/** The Linux system calls the hook makes. */
interface SyscallNumbers {
  read: number;
  write: number;
  openat: number;
  close: number;
  socket: number;
  bind: number;
  connect: number;
  sendto: number;
  recvfrom: number;
  ppoll: number;
  mkdirat: number;
  unlinkat: number;
  renameat2: number;
  getdents64: number;
}

/** Their numbers on x86_64 (`asm/unistd_64.h`). */
const X64_SYSCALLS: SyscallNumbers = {
  read: 0,
  write: 1,
  openat: 257,
  close: 3,
  socket: 41,
  bind: 49,
  connect: 42,
  sendto: 44,
  recvfrom: 45,
  ppoll: 271,
  mkdirat: 258,
  unlinkat: 263,
  renameat2: 316,
  getdents64: 217,
};

/**
 * Their numbers on arm64, which uses the generic table (`asm-generic/unistd.h`). It has no
 * `open`, `poll`, `mkdir` or `rename`, so the hook uses the `*at` forms everywhere.
 */
const ARM64_SYSCALLS: SyscallNumbers = {
  read: 63,
  write: 64,
  openat: 56,
  close: 57,
  socket: 198,
  bind: 200,
  connect: 203,
  sendto: 206,
  recvfrom: 207,
  ppoll: 73,
  mkdirat: 34,
  unlinkat: 35,
  renameat2: 276,
  getdents64: 61,
};

/**
 * `FFIType.i64_fast`, written as its value: the enum lives in the `bun:ffi` module, which
 * the hook does not load (see `findFfi`).
 */
// oxlint-disable-next-line typescript/no-unsafe-enum-assignment -- the value is the member
const I64_FAST: FFIType.i64_fast = 15;

/** The `dirfd` that makes the `*at` calls take a path as `open` or `mkdir` would. */
export const AT_FDCWD = -100;

export type Syscall = keyof SyscallNumbers;

/**
 * Opens libc's `syscall(long number, ...)`, the one symbol the hook's hot path needs. Bun
 * compiles a call thunk for each symbol a `dlopen` names, and each costs start-up time
 * (ten took 0.04 to 0.12 ms longer to open than one), so every call goes through this one.
 * It is declared with seven integers, the number and six arguments, which is how glibc
 * reads them on x86_64 and arm64; pointers are passed as numbers from `Bun.FFI.ptr`.
 * `i64_fast` returns a number whenever the value fits one, so no BigInt is made.
 */
function openSyscall() {
  const arch = process.arch;
  if (arch !== "x64" && arch !== "arm64") throw new Error(`No system call table for ${arch}`);
  const ffi = findFfi();
  const library = ffi.dlopen("libc.so.6", {
    syscall: {
      args: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
      returns: I64_FAST,
    },
  });
  // The native dlopen returns its error where the module's would throw it.
  if (library instanceof Error) throw library;
  return {
    ffi,
    call: library.symbols.syscall,
    numbers: arch === "x64" ? X64_SYSCALLS : ARM64_SYSCALLS,
  };
}

let opened: ReturnType<typeof openSyscall> | undefined;

/** Where libc keeps this thread's `errno`; found on the first failed call. */
let errnoAddress: number | undefined;

/**
 * Finds `errno` with a second `dlopen`, so that a run in which every call succeeds (the
 * agent is up) compiles one thunk only.
 */
function findErrnoAddress(ffi: Ffi): number {
  const library = ffi.dlopen("libc.so.6", {
    __errno_location: { args: [], returns: "ptr" },
  });
  if (library instanceof Error) throw library;
  const address = library.symbols.__errno_location();
  // A null or BigInt pointer would be no address of this process's.
  if (typeof address !== "number") throw new Error("libc gave no errno address");
  return address;
}

/**
 * Makes a Linux system call through libc. libc is opened on first use, not at import, so
 * that a failure to open it is thrown inside the hook's catch-all rather than printed at
 * start-up.
 *
 * The first time a call fails, `errno` is found, and opening it may itself change `errno`
 * (Bun compiles the new thunk), so the failed call is made once more and its second
 * `errno` is the one returned. Calls made here must therefore be harmless to repeat after
 * a failure; `close`, whose second attempt could close a descriptor opened meanwhile, goes
 * through `closeFd` instead.
 *
 * @param name The call; its number is looked up for this machine's architecture.
 * @param args Up to six integer arguments; pointers from `pointerTo`.
 * @returns The call's result when it succeeded, or minus its `errno` (as the kernel itself
 *   reports an error), so `-EAGAIN` and friends can be tested directly.
 * @throws When `libc.so.6` cannot be opened or the architecture is not x86_64 or arm64.
 */
export function linuxCall(name: Syscall, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  opened ??= openSyscall();
  const number = opened.numbers[name];
  const result = Number(opened.call(number, a, b, c, d, e, f));
  if (result !== -1) return result;
  if (errnoAddress === undefined) {
    errnoAddress = findErrnoAddress(opened.ffi);
    const again = Number(opened.call(number, a, b, c, d, e, f));
    if (again !== -1) return again;
  }
  return -opened.ffi.read.i32(errnoAddress, 0);
}

/** Closes a descriptor; its result is not looked at, so the call is never repeated. */
export function closeFd(fd: number): void {
  opened ??= openSyscall();
  opened.call(opened.numbers.close, fd, 0, 0, 0, 0, 0);
}

/**
 * The address of a typed array's memory (plus `byteOffset`), to pass to `linuxCall`. The
 * array must stay referenced until the call has returned, and must not be empty.
 */
export function pointerTo(array: NodeJS.TypedArray, byteOffset = 0): number {
  opened ??= openSyscall();
  return opened.ffi.ptr(array, byteOffset);
}

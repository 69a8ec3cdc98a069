import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import { whenReadable } from "./readable-signal.ts";
import type { ReadableSignal } from "./readable-signal.ts";

/** What a directory watch reports. */
export interface DirectoryWatchHandlers {
  /**
   * Files were written in, or moved into, the directory: their names, with `null` when the
   * kernel lost track (its event queue overflowed) and the whole directory must be read.
   */
  onNames(names: (string | null)[]): void;
  /** The directory was removed or moved away; nothing more will be reported. */
  onLost(reason: string): void;
}

/** A running watch. */
export interface DirectoryWatch {
  close(): void;
}

// struct inotify_event: wd, mask, cookie and len, then len bytes of NUL-padded name.
const EVENT_HEADER_BYTES = 16;
/** Room for many events at once; one with the longest name (255 bytes) fits. */
const READ_BYTES = 4096;

const WATCHED_EVENTS =
  LINUX.IN_CLOSE_WRITE | LINUX.IN_MOVED_TO | LINUX.IN_DELETE_SELF | LINUX.IN_MOVE_SELF;

/**
 * Watches a directory for finished files with inotify, on the main thread, with no thread
 * and no timer: the inotify descriptor raises SIGIO when events arrive (`whenReadable`).
 *
 * @throws {Error} When the directory cannot be watched; nothing is left open.
 */
export function watchDirectory(
  libc: AgentLibc,
  path: string,
  handlers: DirectoryWatchHandlers,
): DirectoryWatch {
  const fd = libc.sys.inotify_init1(LINUX.IN_NONBLOCK | LINUX.IN_CLOEXEC);
  if (fd < 0) throw new Error(`Cannot start inotify: ${libc.describeErrno(libc.errno())}`);
  const buffer = new Uint8Array(new ArrayBuffer(READ_BYTES));
  const view = new DataView(buffer.buffer);
  const decoder = new TextDecoder();
  let isClosed = false;
  let signals: ReadableSignal | undefined;

  function close(): void {
    if (isClosed) return;
    isClosed = true;
    signals?.stop();
    libc.sys.close(fd);
  }

  function readEvents(): void {
    while (!isClosed) {
      const length = Number(libc.sys.read(fd, buffer, READ_BYTES));
      if (length < 0) {
        const code = libc.errno();
        if (code === LINUX.EINTR) continue;
        if (code === LINUX.EAGAIN) return;
        close();
        handlers.onLost(`reading inotify failed: ${libc.describeErrno(code)}`);
        return;
      }
      const names: (string | null)[] = [];
      let isLost = false;
      for (let offset = 0; offset + EVENT_HEADER_BYTES <= length;) {
        const mask = view.getUint32(offset + 4, true);
        const nameBytes = view.getUint32(offset + 12, true);
        const start = offset + EVENT_HEADER_BYTES;
        offset = start + nameBytes;
        if ((mask & LINUX.IN_Q_OVERFLOW) !== 0) names.push(null);
        else if ((mask & (LINUX.IN_DELETE_SELF | LINUX.IN_MOVE_SELF | LINUX.IN_IGNORED)) !== 0) {
          isLost = true;
        } else if (nameBytes > 0) {
          const end = buffer.indexOf(0, start);
          names.push(
            decoder.decode(buffer.subarray(start, end < 0 || end > offset ? offset : end)),
          );
        }
      }
      if (names.length > 0) handlers.onNames(names);
      if (isLost) {
        close();
        handlers.onLost(`the directory "${path}" was removed or moved`);
        return;
      }
    }
  }

  try {
    const pathBytes = new TextEncoder().encode(`${path}\0`);
    if (libc.sys.inotify_add_watch(fd, pathBytes, WATCHED_EVENTS | LINUX.IN_ONLYDIR) < 0) {
      throw new Error(`Cannot watch "${path}": ${libc.describeErrno(libc.errno())}`);
    }
    signals = whenReadable(libc, fd, readEvents);
  } catch (error) {
    close();
    throw error;
  }
  return { close };
}

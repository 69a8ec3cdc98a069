/** Who sent a datagram: the kernel's `SCM_CREDENTIALS`, or a spool file's owner. */
export interface SenderCredentials {
  pid: number;
  uid: number;
  gid: number;
}

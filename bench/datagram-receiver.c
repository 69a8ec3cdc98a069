/*
 * A stand-in for `pika-agent run` while the agent is not built: it binds a unix datagram
 * socket, says `Listening on PATH` on stderr as the agent does, and drains every datagram
 * until it is killed. It never removes the socket file, so SIGKILL leaves a stale one.
 *
 * Usage: datagram-receiver --socket PATH
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int main(int argc, char **argv) {
  if (argc != 3 || strcmp(argv[1], "--socket") != 0) {
    fprintf(stderr, "usage: datagram-receiver --socket PATH\n");
    return 2;
  }

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(argv[2]) >= sizeof address.sun_path) {
    fprintf(stderr, "socket path too long: %s\n", argv[2]);
    return 2;
  }
  strcpy(address.sun_path, argv[2]);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  umask(077);
  if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    perror("cannot bind");
    return 1;
  }
  fprintf(stderr, "Listening on %s\n", argv[2]);

  char buffer[4096];
  for (;;) recv(fd, buffer, sizeof buffer, 0);
}

/*
 * The yardstick of bench/agent-throughput.ts: a receiver that does nothing with what it
 * receives. It binds a unix datagram socket with SO_PASSCRED on, so the kernel attaches
 * the sender's credentials as it does for the agent, says `Listening on PATH` on stderr,
 * and drains datagrams. After the COUNT-th, or on SIGTERM, it prints one line on stdout,
 * `received N last MS` (MS: the wall-clock time of the last receive, in milliseconds
 * since the epoch, 0 when nothing came), and exits.
 *
 * Usage: drain-receiver --socket PATH --count COUNT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

static volatile sig_atomic_t is_stopping = 0;

static void on_term(int signal_number) {
  (void)signal_number;
  is_stopping = 1;
}

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 5 || strcmp(argv[1], "--socket") != 0 || strcmp(argv[3], "--count") != 0) {
    fprintf(stderr, "usage: drain-receiver --socket PATH --count COUNT\n");
    return 2;
  }
  long count = strtol(argv[4], NULL, 10);

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(argv[2]) >= sizeof address.sun_path) {
    fprintf(stderr, "socket path too long: %s\n", argv[2]);
    return 2;
  }
  strcpy(address.sun_path, argv[2]);

  /* No SA_RESTART: SIGTERM must wake a blocked recvmsg. */
  struct sigaction action = {.sa_handler = on_term};
  sigaction(SIGTERM, &action, NULL);

  int on = 1;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  umask(077);
  if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    perror("cannot bind");
    return 1;
  }
  fprintf(stderr, "Listening on %s\n", argv[2]);

  char data[4096];
  char control[256];
  long received = 0;
  double last = 0;
  while (received < count && !is_stopping) {
    struct iovec vector = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr header = {
        .msg_iov = &vector,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof control,
    };
    if (recvmsg(fd, &header, 0) < 0) {
      if (errno == EINTR) continue;
      perror("recvmsg");
      return 1;
    }
    received++;
    last = now_ms();
  }
  printf("received %ld last %.3f\n", received, last);
  return 0;
}

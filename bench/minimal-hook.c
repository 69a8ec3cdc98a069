/*
 * The floor the hook is measured against: what pika-ssh-login-hook does, written in C.
 * It reads its fields from the environment, writes one JSON datagram and makes one
 * non-blocking sendto on a unix datagram socket, then exits 0 whatever happened.
 *
 * It is a yardstick, not a second hook: values are not escaped, the first occurrence of
 * each name wins (getenv), and the key is not fingerprinted.
 *
 * Usage: minimal-hook --socket PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static const char *env_or_empty(const char *name) {
  const char *value = getenv(name);
  return value == NULL ? "" : value;
}

int main(int argc, char **argv) {
  const char *path = "/run/pika/ssh_login.sock";
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--socket") == 0) path = argv[i + 1];
  }

  /* SSH_CONNECTION is "client-ip client-port server-ip server-port". */
  char ip[64] = "", port[16] = "", server_ip[64] = "", server_port[16] = "";
  sscanf(env_or_empty("SSH_CONNECTION"), "%63s %15s %63s %15s", ip, port, server_ip,
         server_port);

  struct timeval now;
  gettimeofday(&now, NULL);
  long long timestamp = (long long)now.tv_sec * 1000 + now.tv_usec / 1000;

  char payload[4096];
  int length = snprintf(
      payload, sizeof payload,
      "{\"username\":\"%s\",\"ip\":\"%s\",\"port\":\"%s\",\"timestamp\":%lld,"
      "\"status\":\"success\",\"tty\":\"%s\",\"sessionId\":\"%d\",\"v\":1,\"type\":\"%s\","
      "\"service\":\"%s\",\"rhost\":\"%s\",\"serverIp\":\"%s\",\"serverPort\":\"%s\"}",
      env_or_empty("PAM_USER"), ip, port, timestamp, env_or_empty("PAM_TTY"), (int)getppid(),
      strcmp(env_or_empty("PAM_TYPE"), "close_session") == 0 ? "close" : "open",
      env_or_empty("PAM_SERVICE"), env_or_empty("PAM_RHOST"), server_ip, server_port);
  if (length < 0 || length >= (int)sizeof payload) return 0;

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof address.sun_path) return 0;
  strcpy(address.sun_path, path);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sendto(fd, payload, (size_t)length, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&address,
         sizeof address);
  close(fd);
  return 0;
}

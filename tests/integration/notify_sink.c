/*
 * notify_sink.c - plays systemd's side of the notification protocol for
 * notify.test: `notify_sink NAME` binds an AF_UNIX datagram socket at NAME
 * (a path, or "@name" in the abstract namespace), prints "bound" once it
 * listens, then every datagram received, its lines as they are, followed
 * by a line "--". It exits 0 after a message holding "STATUS=shutdown
 * complete", 1 after 120 s without one (a watchdog for a stuck test).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* Bind a datagram socket at name. The socket, or -1. */
static int sink_bind(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	struct timeval tv = {120, 0};
	int fd;

	if (len >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, name, len);
	if (name[0] == '@')
		a.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    bind(fd, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] != '@'))) !=
		    0) {
		perror("notify_sink: bind");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Print datagrams until the final status or the timeout. */
int main(int argc, char **argv)
{
	char buf[4096];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: notify_sink PATH|@NAME\n");
		return 2;
	}
	fd = sink_bind(argv[1]);
	if (fd < 0)
		return 1;
	printf("bound\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			break;
		buf[n] = '\0';
		printf("%s%s--\n", buf, n > 0 && buf[n - 1] == '\n' ? "" : "\n");
		fflush(stdout);
		if (strstr(buf, "STATUS=shutdown complete") != NULL) {
			close(fd);
			return 0;
		}
	}
	close(fd);
	return 1;
}

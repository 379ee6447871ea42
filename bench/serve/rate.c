/* An open-loop load generator for bench/serve: POSTs a JSON body at a fixed
 * rate over keep-alive HTTP/1.1 connections on loopback and reports the
 * latency percentiles as one JSON line.
 *
 *   rate URL [--path P] [--rate R] [--duration S] [--connections C]
 *        [--body JSON] [--timeout-ms T]
 *
 * Open loop: request i is due at start + i/R whatever happened before, and its
 * latency runs from that due time, not from when a connection became free to
 * send it, so a server that falls behind is charged for the queue it causes
 * (closed-loop tools such as wrk hide that: "coordinated omission"). A request
 * waits for an idle connection (one request per connection at a time, no
 * pipelining); idle connections are reused in FIFO order so that all stay warm
 * and none reaches the server's keep-alive timeout. Requests still unsent one
 * --timeout-ms after the run's end are given up and reported as "unsent".
 * Responses need a Content-Length (both servers bench/serve compares send one). Single thread,
 * epoll, a timerfd for the schedule (nanosecond deadlines; epoll's own timeout
 * is whole milliseconds, which would add up to 1 ms to every latency).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RBUF 65536

typedef struct {
  int fd;
  int busy;
  uint64_t due;   /* the due time of the request in flight (ns) */
  uint64_t sent;  /* when it was sent: its timeout runs from there */
  size_t wpos;    /* bytes of the request written */
  size_t rlen;    /* bytes of the response read */
  char rbuf[RBUF];
} Conn;

static struct sockaddr_in addr;
static char *req;
static size_t req_len;
static int ep;
static Conn *conns;
static int nconns;
static int idle[MAX_CONNS]; /* FIFO ring of idle connection indexes */
static int idle_head, idle_count;
static uint64_t *lat;       /* per completed request, ns */
static uint64_t n_lat, n_ok, n_non2xx, e_connect, e_io, e_timeout, e_parse;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void idle_push(int i) {
  idle[(idle_head + idle_count) % MAX_CONNS] = i;
  idle_count++;
}

static int idle_pop(void) {
  int i = idle[idle_head];
  idle_head = (idle_head + 1) % MAX_CONNS;
  idle_count--;
  return i;
}

/* Takes idle connection i out of the ring (conn_reset queues it again). */
static void idle_remove(int i) {
  for (int k = 0; k < idle_count; k++)
    if (idle[(idle_head + k) % MAX_CONNS] == i) {
      for (int j = k; j < idle_count - 1; j++)
        idle[(idle_head + j) % MAX_CONNS] = idle[(idle_head + j + 1) % MAX_CONNS];
      idle_count--;
      return;
    }
}

/* Connects conn i (blocking: loopback answers at once) and queues it as idle. */
static int conn_open(int i) {
  Conn *c = &conns[i];
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  /* Bounded, but past the 1 s of a SYN retransmit: a server with a short listen
   * backlog (GSocket's default is 10) drops the SYNs of a burst of connections,
   * which then come 1 s later; a server that never accepts would hold connect()
   * for minutes. */
  int err = 0;
  socklen_t elen = sizeof err;
  struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
  if (c->fd < 0 ||
      (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
       (errno != EINPROGRESS || poll(&pfd, 1, 3000) != 1 ||
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0))) {
    if (c->fd >= 0)
      close(c->fd);
    c->fd = -1;
    e_connect++;
    return -1;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  c->busy = 0;
  c->rlen = 0;
  idle_push(i);
  return 0;
}

static void conn_reset(int i) {
  Conn *c = &conns[i];
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->busy = 0;
  conn_open(i);
}

static void conn_write(int i) {
  Conn *c = &conns[i];
  while (c->wpos < req_len) {
    ssize_t n = send(c->fd, req + c->wpos, req_len - c->wpos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    if (n <= 0) {
      e_io++;
      conn_reset(i);
      return;
    }
    c->wpos += (size_t)n;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_send(int i, uint64_t due) {
  Conn *c = &conns[i];
  c->busy = 1;
  c->due = due;
  c->sent = now_ns();
  c->wpos = 0;
  c->rlen = 0;
  conn_write(i);
}

/* Status and whole length of the response in rbuf once its head is there; 0
 * while incomplete, -1 when it cannot be parsed. */
static int parse_head(Conn *c, int *status, size_t *total, int *close_after) {
  char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
  if (!end)
    return c->rlen >= RBUF ? -1 : 0;
  *end = '\0';
  if (strncmp(c->rbuf, "HTTP/1.", 7) != 0 || strlen(c->rbuf) < 12)
    return -1;
  *status = atoi(c->rbuf + 9);
  long clen = -1;
  *close_after = 0;
  for (char *l = strstr(c->rbuf, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
    if (strncasecmp(l + 2, "content-length:", 15) == 0)
      clen = strtol(l + 17, NULL, 10);
    else if (strncasecmp(l + 2, "connection:", 11) == 0 && strcasestr(l + 13, "close"))
      *close_after = 1;
  }
  *end = '\r';
  if (clen < 0)
    return -1;
  *total = (size_t)(end + 4 - c->rbuf) + (size_t)clen;
  return *total > RBUF ? -1 : 1;
}

static void conn_read(int i) {
  Conn *c = &conns[i];
  ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n <= 0) {
    if (c->busy)
      e_io++;
    else /* the server closed an idle keep-alive connection: not a failure */
      idle_remove(i);
    conn_reset(i);
    return;
  }
  c->rlen += (size_t)n;
  if (!c->busy) { /* bytes nobody asked for */
    e_parse++;
    idle_remove(i);
    conn_reset(i);
    return;
  }
  int status = 0, close_after = 0;
  size_t total = 0;
  int r = parse_head(c, &status, &total, &close_after);
  if (r < 0) {
    e_parse++;
    conn_reset(i);
    return;
  }
  if (r == 0 || c->rlen < total)
    return;
  lat[n_lat++] = now_ns() - c->due;
  if (status >= 200 && status <= 299)
    n_ok++;
  else
    n_non2xx++;
  c->busy = 0;
  if (close_after || c->rlen != total)
    conn_reset(i);
  else
    idle_push(i);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct_us(double p) {
  if (!n_lat)
    return 0;
  size_t k = (size_t)(p / 100.0 * (double)(n_lat - 1) + 0.5);
  return (double)lat[k] / 1000.0;
}

static void arm(int tfd, uint64_t at) {
  struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ull),
                                        .tv_nsec = (long)(at % 1000000000ull)}};
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
    its.it_value.tv_nsec = 1;
  timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void usage(void) {
  fprintf(stderr, "usage: rate http://HOST:PORT [--path P] [--rate R] [--duration S] "
                  "[--connections C] [--body JSON] [--timeout-ms T]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *url = NULL, *path = "/predict", *body = "{\"rows\": [[5.1, 3.5, 1.4, 0.2]]}";
  double rate = 1000, duration = 10;
  long timeout_ms = 2000;
  nconns = 32;
  for (int a = 1; a < argc; a++) {
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (strcmp(argv[a], "--path") == 0 && v)
      path = v, a++;
    else if (strcmp(argv[a], "--rate") == 0 && v)
      rate = atof(v), a++;
    else if (strcmp(argv[a], "--duration") == 0 && v)
      duration = atof(v), a++;
    else if (strcmp(argv[a], "--connections") == 0 && v)
      nconns = atoi(v), a++;
    else if (strcmp(argv[a], "--body") == 0 && v)
      body = v, a++;
    else if (strcmp(argv[a], "--timeout-ms") == 0 && v)
      timeout_ms = atol(v), a++;
    else if (!url && strncmp(argv[a], "http://", 7) == 0)
      url = argv[a];
    else
      usage();
  }
  if (!url || rate <= 0 || duration <= 0 || nconns < 1 || nconns > MAX_CONNS || timeout_ms < 1)
    usage();
  char host[256];
  int port = 0;
  if (sscanf(url + 7, "%255[^:/]:%d", host, &port) != 2 || port < 1 || port > 65535)
    usage();
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "rate: %s: give an IPv4 address such as 127.0.0.1\n", url);
    return 2;
  }
  size_t blen = strlen(body);
  req = malloc(blen + 512);
  req_len = (size_t)snprintf(req, blen + 512,
                             "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\n\r\n%s",
                             path, host, port, blen, body);
  uint64_t total = (uint64_t)(rate * duration + 0.5), scheduled = total, total_cut = 0;
  lat = malloc(sizeof *lat * (total + 1));
  conns = calloc((size_t)nconns, sizeof *conns);
  ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (!req || !lat || !conns || ep < 0 || tfd < 0) {
    perror("rate");
    return 1;
  }
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  for (int i = 0; i < nconns; i++)
    conns[i].fd = -1;
  for (int i = 0; i < nconns; i++)
    if (conn_open(i) != 0) {
      fprintf(stderr, "rate: cannot connect to %s\n", url);
      return 1;
    }
  double interval = 1e9 / rate;
  uint64_t start = now_ns() + 1000000, next = 0;
  uint64_t tmo = (uint64_t)timeout_ms * 1000000ull;
  struct epoll_event evs[64];
  for (;;) {
    uint64_t now = now_ns();
    while (next < total && idle_count > 0) {
      uint64_t due = start + (uint64_t)((double)next * interval);
      if (due > now)
        break;
      conn_send(idle_pop(), due);
      next++;
    }
    /* A server that cannot keep up: what is still unsent one timeout after
     * the run's end is given up (reported as unsent), to bound the run. */
    if (next < total && now > start + (uint64_t)(duration * 1e9) + tmo)
      total_cut = next;
    if (total_cut)
      total = total_cut;
    int busy = 0, alive = 0;
    for (int i = 0; i < nconns; i++)
      alive += conns[i].fd >= 0;
    if (!alive)
      break; /* every connection refused: the rest is never sent */
    for (int i = 0; i < nconns; i++)
      if (conns[i].busy) {
        if (now > conns[i].sent && now - conns[i].sent > tmo) {
          e_timeout++;
          conn_reset(i);
        } else
          busy++;
      }
    if (next >= total && busy == 0)
      break;
    /* Wake at the next due time when a connection can take it, else when a
     * response (or a timeout check, every 10 ms) comes. */
    uint64_t wake = now + 10000000ull;
    if (next < total && idle_count > 0) {
      uint64_t due = start + (uint64_t)((double)next * interval);
      if (due < wake)
        wake = due;
    }
    arm(tfd, wake);
    int n = epoll_wait(ep, evs, 64, 100);
    for (int k = 0; k < n; k++) {
      uint32_t i = evs[k].data.u32;
      if (i == UINT32_MAX) {
        uint64_t exp;
        if (read(tfd, &exp, sizeof exp) < 0 && errno != EAGAIN)
          perror("rate: timerfd");
        continue;
      }
      if (conns[i].fd < 0)
        continue;
      if ((evs[k].events & EPOLLOUT) && conns[i].busy && conns[i].wpos < req_len)
        conn_write((int)i);
      if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_read((int)i);
    }
  }
  double wall = (double)(now_ns() - start) / 1e9;
  qsort(lat, n_lat, sizeof *lat, cmp_u64);
  double sum = 0;
  for (uint64_t k = 0; k < n_lat; k++)
    sum += (double)lat[k];
  printf("{\"rate\": %g, \"duration_s\": %g, \"connections\": %d, \"scheduled\": %llu, "
         "\"sent\": %llu, \"unsent\": %llu, \"completed\": %llu, \"ok\": %llu, \"non2xx\": %llu, "
         "\"errors\": {\"connect\": %llu, \"io\": %llu, \"timeout\": %llu, \"parse\": %llu}, "
         "\"achieved_rps\": %.1f, \"latency_us\": {\"mean\": %.1f, \"p50\": %.1f, \"p90\": %.1f, "
         "\"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}}\n",
         rate, duration, nconns, (unsigned long long)scheduled, (unsigned long long)next,
         (unsigned long long)(scheduled - next),
         (unsigned long long)n_lat, (unsigned long long)n_ok, (unsigned long long)n_non2xx,
         (unsigned long long)e_connect, (unsigned long long)e_io, (unsigned long long)e_timeout,
         (unsigned long long)e_parse, (double)n_lat / wall, n_lat ? sum / (double)n_lat / 1000.0 : 0,
         pct_us(50), pct_us(90), pct_us(99), pct_us(99.9), n_lat ? (double)lat[n_lat - 1] / 1000.0 : 0);
  return 0;
}

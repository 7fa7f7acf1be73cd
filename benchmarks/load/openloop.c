// openloop: a rate-limited, open-loop HTTP/1.1 load generator for ack latency at a fixed offered load.
//
// wrk is closed-loop: a slow response delays the next request, so the latency of the requests that *would* have
// been sent meanwhile is never measured (coordinated omission). Here request i is due at t0 + i/rate whatever
// happened before; it goes out on the first idle keep-alive connection, and its latency is measured from when it
// was due, not from when it was written. A backlog (no idle connection) therefore shows up as latency.
//
// Requests come from a make-requests.py file ("<signature>\t<body>" per line), one line per request, in order.
//
//   cc -O2 -o openloop openloop.c
//   openloop -p PORT -u /hooks/stripe -r RATE -d SECS -c CONNS -f requests.tsv [-H Stripe-Signature] [-w WARMUP]
//            [-h 127.0.0.1] [-t DRAIN_TIMEOUT]
// Prints one line: "openloop target_rps=… achieved_rps=… p50_ms=… p99_ms=… p999_ms=… …" (warm-up excluded).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct { char *buf; size_t len; } Request;
enum { CONNECTING, IDLE, BUSY };
typedef struct {
  int fd, state;
  long req;            // index of the request in flight
  size_t written;
  char *in; size_t in_len, in_cap;
} Conn;

static struct sockaddr_in addr;
static int ep;
static Conn *conns; static int nconns;
static int *idle; static int nidle;
static Request *reqs; static long nreqs, total;
static uint64_t t0; static double rate;
static uint64_t *lat; static long nlat;
static long warmup_count, ok, non2xx, errors, completed_measured, max_backlog, reconnects;
static uint64_t last_completion;

static uint64_t now_ns(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static uint64_t due_at(long i) { return t0 + (uint64_t)((double)i * 1e9 / rate); }
static void die(const char *m) { perror(m); exit(2); }

static void ctl(int op, Conn *c, uint32_t events) {
  struct epoll_event ev = { .events = events, .data.ptr = c };
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void open_conn(Conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = CONNECTING; c->req = -1; c->in_len = 0;
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
  ctl(EPOLL_CTL_ADD, c, EPOLLOUT);
}

static void fail_conn(Conn *c) {
  if (c->state == BUSY) errors++;  // the request in flight got no answer
  close(c->fd); reconnects++;
  open_conn(c);
}

static void send_more(Conn *c) {
  Request *r = &reqs[c->req % nreqs];
  while (c->written < r->len) {
    ssize_t n = write(c->fd, r->buf + c->written, r->len - c->written);
    if (n < 0) {
      if (errno == EAGAIN) { ctl(EPOLL_CTL_MOD, c, EPOLLOUT); return; }
      fail_conn(c); return;
    }
    c->written += (size_t)n;
  }
  ctl(EPOLL_CTL_MOD, c, EPOLLIN);
}

static void start(Conn *c, long i) {
  c->state = BUSY; c->req = i; c->written = 0; c->in_len = 0;
  send_more(c);
}

// Returns 1 when a whole response is buffered; sets *status and *close_after.
static int parse(Conn *c, int *status, int *close_after) {
  char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->in) + 4;
  if (c->in_len < 12) return 0;
  *status = atoi(c->in + 9);
  long clen = -1; *close_after = 0;
  for (char *p = c->in; p < end; ) {
    char *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
    if (!eol) break;
    if (eol - p > 15 && strncasecmp(p, "content-length:", 15) == 0) clen = atol(p + 15);
    if (eol - p > 11 && strncasecmp(p, "connection:", 11) == 0 && memmem(p, (size_t)(eol - p), "close", 5)) *close_after = 1;
    if (eol - p > 18 && strncasecmp(p, "transfer-encoding:", 18) == 0) {
      fprintf(stderr, "openloop: chunked responses are not supported\n"); exit(2);
    }
    p = eol + 2;
  }
  if (clen < 0) clen = 0;
  return c->in_len >= head + (size_t)clen;
}

static void on_readable(Conn *c) {
  for (;;) {
    if (c->in_cap - c->in_len < 4096) { c->in_cap = c->in_cap * 2 + 8192; c->in = realloc(c->in, c->in_cap); }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n == 0) { fail_conn(c); return; }
    if (n < 0) { if (errno == EAGAIN) break; fail_conn(c); return; }
    c->in_len += (size_t)n;
  }
  int status, close_after;
  if (c->state != BUSY || !parse(c, &status, &close_after)) return;
  uint64_t t = now_ns();
  if (status >= 200 && status < 300) ok++; else non2xx++;
  if (c->req >= warmup_count) { lat[nlat++] = t - due_at(c->req); completed_measured++; last_completion = t; }
  c->state = IDLE; c->req = -1; c->in_len = 0;
  if (close_after) { close(c->fd); reconnects++; open_conn(c); return; }
  idle[nidle++] = (int)(c - conns);
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y;
}
static double pct(double p) {
  if (!nlat) return 0;
  long k = (long)(p / 100.0 * (double)nlat); if (k >= nlat) k = nlat - 1;
  return (double)lat[k] / 1e6;
}

static void load(const char *path, const char *host, int port, const char *upath, const char *hdr, long want) {
  int fd = open(path, O_RDONLY); if (fd < 0) die(path);
  struct stat st; fstat(fd, &st);
  char *data = malloc((size_t)st.st_size + 1); size_t got = 0;
  while (got < (size_t)st.st_size) { ssize_t n = read(fd, data + got, (size_t)st.st_size - got); if (n <= 0) die("read"); got += (size_t)n; }
  close(fd);
  reqs = calloc((size_t)want, sizeof *reqs);
  for (char *p = data, *end = data + got; p < end && nreqs < want; ) {
    char *nl = memchr(p, '\n', (size_t)(end - p)); if (!nl) nl = end;
    char *tab = memchr(p, '\t', (size_t)(nl - p));
    if (tab) {
      size_t blen = (size_t)(nl - tab - 1);
      size_t cap = blen + (size_t)(tab - p) + strlen(upath) + strlen(host) + strlen(hdr) + 200;
      Request *r = &reqs[nreqs++]; r->buf = malloc(cap);
      int h = snprintf(r->buf, cap, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n%s: %.*s\r\nContent-Length: %zu\r\n\r\n",
                       upath, host, port, hdr, (int)(tab - p), p, blen);
      memcpy(r->buf + h, tab + 1, blen); r->len = (size_t)h + blen;
    }
    p = nl + 1;
  }
  free(data);
  if (!nreqs) { fprintf(stderr, "openloop: no requests in %s\n", path); exit(2); }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *upath = "/hooks/stripe", *file = "requests.tsv", *hdr = "Stripe-Signature";
  int port = 0; double secs = 10, warmup = 1, drain = 10; rate = 1000; nconns = 64;
  for (int o; (o = getopt(argc, argv, "h:p:u:r:d:c:f:H:w:t:")) != -1; ) switch (o) {
    case 'h': host = optarg; break; case 'p': port = atoi(optarg); break; case 'u': upath = optarg; break;
    case 'r': rate = atof(optarg); break; case 'd': secs = atof(optarg); break; case 'c': nconns = atoi(optarg); break;
    case 'f': file = optarg; break; case 'H': hdr = optarg; break; case 'w': warmup = atof(optarg); break;
    case 't': drain = atof(optarg); break;
    default: fprintf(stderr, "usage: see the comment at the top of openloop.c\n"); return 2;
  }
  if (!port || rate <= 0) { fprintf(stderr, "openloop: -p PORT and -r RATE > 0 are required\n"); return 2; }
  warmup_count = (long)(warmup * rate); total = warmup_count + (long)(secs * rate);
  load(file, host, port, upath, hdr, total);
  lat = malloc(sizeof *lat * (size_t)total);
  addr.sin_family = AF_INET; addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "openloop: -h takes an IPv4 address\n"); return 2; }
  ep = epoll_create1(0);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  conns = calloc((size_t)nconns, sizeof *conns); idle = calloc((size_t)nconns, sizeof *idle);
  for (int i = 0; i < nconns; i++) open_conn(&conns[i]);
  // Wait for the connections before the clock starts, so connection set-up is not charged to the first requests.
  for (uint64_t deadline = now_ns() + 5000000000ull; nidle < nconns && now_ns() < deadline; ) {
    struct epoll_event evs[256]; int n = epoll_wait(ep, evs, 256, 100);
    for (int k = 0; k < n; k++) {
      Conn *c = evs[k].data.ptr; if (!c) continue;
      int err = 0; socklen_t l = sizeof err; getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
      if (err) { fprintf(stderr, "openloop: connect: %s\n", strerror(err)); return 2; }
      c->state = IDLE; ctl(EPOLL_CTL_MOD, c, EPOLLIN); idle[nidle++] = (int)(c - conns);
    }
  }
  t0 = now_ns();
  uint64_t send_end = due_at(total), hard_end = send_end + (uint64_t)(drain * 1e9);
  long next = 0, in_flight;
  struct epoll_event evs[1024];
  for (;;) {
    uint64_t t = now_ns();
    long due = t < t0 ? 0 : (long)((double)(t - t0) * rate / 1e9) + 1;
    if (due > total) due = total;
    while (next < due && nidle > 0) start(&conns[idle[--nidle]], next++);
    if (due - next > max_backlog) max_backlog = due - next;
    in_flight = 0; for (int i = 0; i < nconns; i++) in_flight += conns[i].state == BUSY;
    if (next >= total && in_flight == 0) break;
    if (t > hard_end) break;
    if (next < total) {
      uint64_t d = due_at(next);
      struct itimerspec its = { .it_value = { (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) } };
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    int n = epoll_wait(ep, evs, 1024, 100);
    for (int k = 0; k < n; k++) {
      Conn *c = evs[k].data.ptr;
      if (!c) { uint64_t x; while (read(tfd, &x, sizeof x) > 0) {} continue; }
      if (c->state == CONNECTING) {
        int err = 0; socklen_t l = sizeof err; getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { fail_conn(c); continue; }
        c->state = IDLE; ctl(EPOLL_CTL_MOD, c, EPOLLIN); idle[nidle++] = (int)(c - conns);
      } else if (c->state == BUSY && c->written < reqs[c->req % nreqs].len && (evs[k].events & EPOLLOUT)) {
        send_more(c);
      } else if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (c->state == IDLE) { fail_conn(c); for (int j = 0; j < nidle; j++) if (idle[j] == (int)(c - conns)) { idle[j] = idle[--nidle]; break; } }
        else on_readable(c);
      }
    }
  }
  long unanswered = 0; for (int i = 0; i < nconns; i++) unanswered += conns[i].state == BUSY;
  long measured_sent = next > warmup_count ? next - warmup_count : 0;
  double window = last_completion > due_at(warmup_count) ? (double)(last_completion - due_at(warmup_count)) / 1e9 : secs;
  qsort(lat, (size_t)nlat, sizeof *lat, cmp);
  printf("openloop target_rps=%.0f achieved_rps=%.1f sent=%ld completed=%ld ok=%ld non2xx=%ld errors=%ld unanswered=%ld "
         "not_sent=%ld p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f max_backlog=%ld conns=%d "
         "reconnects=%ld unique_requests=%ld\n",
         rate, (double)completed_measured / window, measured_sent, completed_measured, ok, non2xx, errors, unanswered,
         total - next, pct(50), pct(90), pct(99), pct(99.9), nlat ? (double)lat[nlat - 1] / 1e6 : 0.0, max_backlog,
         nconns, reconnects, nreqs < total ? nreqs : total);
  return 0;
}

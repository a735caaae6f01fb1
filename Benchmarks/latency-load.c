// A closed-loop HTTP load generator that times every request itself, for
// Benchmarks/read-contention.sh: N connections, each sending one POST of a 1-syscall batch
// (vatstoreSet of key "k<i mod 1000>") and waiting for its answer before the next, for a fixed
// time. Each request is timed with CLOCK_MONOTONIC from just before its send to the last byte of
// its answer, and every time is kept, so the percentiles are exact.
//
// Why not wrk's latency: while the readers run, wrk reported a p99 of 42.6 ms while its own
// write and read system calls, traced with perf, put the same requests' p99 at 5.6 ms, and so
// did the server's (and a separate probe connection); see Benchmarks/README.md.
//
// Build: cc -O2 -pthread -o latency-load Benchmarks/latency-load.c
// Usage: latency-load HOST PORT PATH TOKEN CONNECTIONS SECONDS
// Prints: RESULT p50_ms=.. p90_ms=.. p99_ms=.. p999_ms=.. max_ms=.. requests=N errors=N
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *path, *token;
static int port;
static double seconds;
static int connections;

struct worker {
    pthread_t thread;
    int index;
    double *times;  // milliseconds
    size_t count, capacity;
    long errors;
};

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int connect_to_server(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

// Reads one answer (headers, then Content-Length bytes of body); returns its status or -1.
static int read_answer(int fd, char *buf, size_t size) {
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == size) return -1;
        ssize_t r = recv(fd, buf + have, size - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        end = memmem(buf, have, "\r\n\r\n", 4);
    }
    size_t head = (size_t)(end - buf) + 4, length = 0;
    for (char *line = buf; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0) length = strtoul(line + 15, NULL, 10);
    }
    while (have < head + length) {  // the body: read and discard
        ssize_t r = recv(fd, buf, size < head + length - have ? size : head + length - have, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
    }
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

static void *run(void *arg) {
    struct worker *w = arg;
    char request[1024], body[256], answer[1 << 16];
    int fd = connect_to_server();
    double stop = now_ms() + seconds * 1e3;
    for (long i = w->index; fd >= 0 && now_ms() < stop; i += connections) {
        int n = snprintf(body, sizeof body, "{\"syscalls\":[{\"type\":\"vatstoreSet\",\"key\":\"k%ld\",\"value\":\"v\"}]}", i % 1000);
        int m = snprintf(request, sizeof request,
                         "POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                         path, host, port, token, n, body);
        double start = now_ms();
        int status = send_all(fd, request, (size_t)m) == 0 ? read_answer(fd, answer, sizeof answer) : -1;
        double elapsed = now_ms() - start;
        if (status < 200 || status > 299) {
            w->errors++;
            if (status < 0) {
                close(fd);
                fd = connect_to_server();
            }
            continue;
        }
        if (w->count == w->capacity) {
            w->capacity = w->capacity ? w->capacity * 2 : 4096;
            w->times = realloc(w->times, w->capacity * sizeof(double));
        }
        w->times[w->count++] = elapsed;
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: latency-load HOST PORT PATH TOKEN CONNECTIONS SECONDS\n");
        return 2;
    }
    host = argv[1], port = atoi(argv[2]), path = argv[3], token = argv[4];
    connections = atoi(argv[5]);
    seconds = atof(argv[6]);
    struct worker *workers = calloc((size_t)connections, sizeof *workers);
    for (int i = 0; i < connections; i++) {
        workers[i].index = i;
        pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(workers[i].thread, NULL);
        total += workers[i].count;
        errors += workers[i].errors;
    }
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < connections; i++) {
        memcpy(all + k, workers[i].times, workers[i].count * sizeof(double));
        k += workers[i].count;
    }
    qsort(all, total, sizeof(double), by_value);
#define AT(p) (total ? all[(size_t)((p) * (double)(total - 1))] : 0)
    printf("RESULT p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f requests=%zu errors=%ld\n",
           AT(0.50), AT(0.90), AT(0.99), AT(0.999), AT(1.0), total, errors);
    return 0;
}

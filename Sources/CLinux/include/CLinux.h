// The Linux calls HTTPServer needs that Swift's Glibc module does not import: epoll, eventfd
// and accept4; and the per-thread scheduling policy of KernelService's reader threads. Each wrapper fixes the flags HTTPServer always uses (close-on-exec, and
// non-blocking where it applies), and epoll events cross the boundary in an unpacked struct,
// so Swift never depends on the packed layout `struct epoll_event` has on x86-64.
#ifndef VATKERNEL_CLINUX_H
#define VATKERNEL_CLINUX_H

#include <stdint.h>

/// Readiness flags, as in <sys/epoll.h>.
static const uint32_t vk_epoll_in = 0x001;
static const uint32_t vk_epoll_out = 0x004;
static const uint32_t vk_epoll_err = 0x008;
static const uint32_t vk_epoll_hup = 0x010;

/// One readiness report: the flags and the token the descriptor was registered with.
typedef struct {
    uint32_t events;
    uint64_t token;
} vk_epoll_event;

/// `epoll_create1(EPOLL_CLOEXEC)`.
int vk_epoll_create(void);

/// `epoll_ctl(EPOLL_CTL_ADD)` of `fd` for `events`, reported with `token`. 0 or -1 (errno).
int vk_epoll_add(int epfd, int fd, uint32_t events, uint64_t token);

/// `epoll_ctl(EPOLL_CTL_MOD)`. 0 or -1 (errno).
int vk_epoll_modify(int epfd, int fd, uint32_t events, uint64_t token);

/// `epoll_wait` into `events` (room for `capacity`, at most 1024); the count, or -1 (errno).
int vk_epoll_wait(int epfd, vk_epoll_event *events, int capacity, int timeout_ms);

/// `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
int vk_eventfd(void);

/// `accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)`.
int vk_accept(int listener);

/// Puts the calling thread (only it, not its process) under `SCHED_IDLE`: it runs when no
/// thread of normal policy wants the CPU, and a normal thread that wakes preempts it at once.
/// 0 or -1 (errno).
int vk_thread_set_idle_policy(void);

/// The calling thread's kernel thread ID (`gettid()`), as /proc/self/task/ names it.
int vk_thread_id(void);

/// The scheduling policy of thread `tid` of this process, read from the kernel
/// (`sched_getscheduler(tid)`): 0 `SCHED_OTHER`, 3 `SCHED_BATCH`, 5 `SCHED_IDLE`; -1 (errno).
int vk_thread_policy(int tid);

/// `SCHED_IDLE`, as in <sched.h>.
static const int vk_sched_idle = 5;

#endif

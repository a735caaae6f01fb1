#define _GNU_SOURCE
#include "CLinux.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <stddef.h>
#include <unistd.h>

int vk_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

static int control(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(epfd, op, fd, &event);
}

int vk_epoll_add(int epfd, int fd, uint32_t events, uint64_t token) {
    return control(epfd, EPOLL_CTL_ADD, fd, events, token);
}

int vk_epoll_modify(int epfd, int fd, uint32_t events, uint64_t token) {
    return control(epfd, EPOLL_CTL_MOD, fd, events, token);
}

int vk_epoll_wait(int epfd, vk_epoll_event *events, int capacity, int timeout_ms) {
    struct epoll_event raw[1024];
    if (capacity > 1024) capacity = 1024;
    int count = epoll_wait(epfd, raw, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        events[i].events = raw[i].events;
        events[i].token = raw[i].data.u64;
    }
    return count;
}

int vk_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int vk_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int vk_thread_set_idle_policy(void) {
    // On Linux a pthread's policy is its own task's: the other threads keep theirs.
    struct sched_param param = {.sched_priority = 0};
    int error = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
    if (error == 0) return 0;
    errno = error;
    return -1;
}

int vk_thread_id(void) {
    return (int)gettid();
}

int vk_thread_policy(int tid) {
    return sched_getscheduler(tid);
}

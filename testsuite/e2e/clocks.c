// clock_gettime, nanosleep (poll_oneoff) and getentropy behave sanely.
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

int main(void) {
    struct timespec a, b, r;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept at least 20ms: %s\n", ms >= 20 ? "yes" : "no");
    clock_getres(CLOCK_MONOTONIC, &r);
    printf("monotonic resolution under 1ms: %s\n", (r.tv_sec == 0 && r.tv_nsec < 1000000) ? "yes" : "no");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("realtime after 2020: %s\n", now.tv_sec > 1577836800 ? "yes" : "no");
    unsigned char buf1[32], buf2[32];
    getentropy(buf1, sizeof buf1);
    getentropy(buf2, sizeof buf2);
    printf("two random draws differ: %s\n", memcmp(buf1, buf2, sizeof buf1) ? "yes" : "no");
    return 0;
}

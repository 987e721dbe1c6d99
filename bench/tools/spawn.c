/* spawn STATFILE CMD [ARGS...]: runs CMD (stdio inherited), then writes
 * "<wall ns> <peak RSS KiB> <exit status> <user+sys CPU us>" to STATFILE and exits with CMD's
 * status (128+N for a signal).
 *
 * bench.py runs every measured process through this small static helper
 * because Linux's ru_maxrss of a child includes the memory of the process
 * that forked it (the old mm's high-water mark is carried across exec): a
 * child forked from the Python harness would report at least Python's ~30 MB.
 * Forked from this helper, the floor is the helper's own ~1 MB. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: spawn STATFILE CMD [ARGS...]\n"); return 2; }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) { perror("spawn: fork"); return 125; }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror("spawn: exec");
    _exit(127);
  }
  int st;
  struct rusage ru;
  while (wait4(pid, &st, 0, &ru) < 0) {}
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  FILE *f = fopen(argv[1], "w");
  if (!f) { perror("spawn: stat file"); return 125; }
  long long cpu_us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  fprintf(f, "%lld %ld %d %lld\n", ns, ru.ru_maxrss, code, cpu_us);
  fclose(f);
  return code;
}

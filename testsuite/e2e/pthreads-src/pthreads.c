#include <pthread.h>
#include <stdio.h>
#define N 4
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static int ready, round_no; static long sum;
static void *work(void *arg) {
  long id = (long)arg;
  for (int r = 0; r < 50; r++) {
    pthread_barrier_wait(&bar);
    pthread_mutex_lock(&m); sum += id * r; ready++; if (ready == N * 50) pthread_cond_broadcast(&cv); pthread_mutex_unlock(&m);
  }
  pthread_mutex_lock(&m); while (round_no == 0) pthread_cond_wait(&cv, &m); pthread_mutex_unlock(&m);
  return (void *)(id * 10);
}
int main(void) {
  pthread_t t[N]; pthread_barrier_init(&bar, 0, N);
  for (long i = 0; i < N; i++) if (pthread_create(&t[i], 0, work, (void *)(i + 1))) { puts("create failed"); return 1; }
  pthread_mutex_lock(&m); while (ready < N * 50) pthread_cond_wait(&cv, &m); round_no = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&m);
  long rets = 0; for (int i = 0; i < N; i++) { void *rv; pthread_join(t[i], &rv); rets += (long)rv; }
  printf("sum %ld rets %ld\n", sum, rets); return 0;
}

#include <stdio.h>

struct point { int x; int y; struct point *next; };

static int sum_points(struct point *p) {
    int total = 0;
    while (p) {
        total += p->x * p->y;
        p = p->next;
    }
    return total;
}

int square(int v) {
    int r = v * v;
    return r;
}

int main(void) {
    struct point c = {5, 6, NULL};
    struct point b = {3, 4, &c};
    struct point a = {1, 2, &b};
    int s = sum_points(&a);
    int q = square(s);
    printf("sum=%d square=%d\n", s, q);
    return 0;
}

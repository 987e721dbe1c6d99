// Scale: a path 300 directories deep (created, used, and climbed back out
// of with 300 `..`, one more being refused), 400 descriptors open at once,
// and a directory of 400 entries listed through several fd_readdir calls.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    static char path[8192] = "/s", up[8192];
    int depth = 0;
    for (int i = 0; i < 300; i++) {
        strcat(path, "/d");
        if (mkdir(path, 0755)) {
            printf("mkdir at depth %d: errno %d\n", i, errno);
            break;
        }
        depth++;
    }
    printf("depth %d, path length %zu\n", depth, strlen(path));
    strcat(path, "/f.txt");
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    printf("create at the bottom: %s\n", fd >= 0 ? "ok" : "failed");
    close(fd);
    strcpy(up, path);
    up[strlen(up) - strlen("/f.txt")] = 0;
    for (int i = 0; i < depth; i++) strcat(up, "/..");
    strcpy(up + strlen(up), "/top.txt");
    fd = open(up, O_CREAT | O_WRONLY, 0644);
    printf("create after %d '..': %s\n", depth, fd >= 0 ? "ok" : "failed");
    close(fd);
    struct stat st;
    printf("top.txt is in /s: %s\n", stat("/s/top.txt", &st) == 0 ? "yes" : "no");
    up[strlen(up) - strlen("/top.txt")] = 0;
    strcat(up, "/../top.txt");
    errno = 0;
    fd = open(up, O_RDONLY);
    printf("one '..' more: %d, errno %d\n", fd, errno);

    static int fds[400];
    int opened = 0;
    mkdir("/s/many", 0755);
    for (int i = 0; i < 400; i++) {
        char n[32];
        snprintf(n, sizeof n, "/s/many/f%03d", i);
        fds[i] = open(n, O_CREAT | O_RDWR, 0644);
        if (fds[i] >= 0) opened++;
    }
    int distinct = 1;
    for (int i = 1; i < 400; i++)
        if (fds[i] == fds[i - 1]) distinct = 0;
    printf("open at once: %d, all different: %s\n", opened, distinct ? "yes" : "no");
    for (int i = 0; i < 400; i++) close(fds[i]);

    DIR *d = opendir("/s/many");
    int count = 0, files = 0;
    long sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        count++;
        if (e->d_name[0] == 'f') {
            files++;
            sum += atoi(e->d_name + 1);
        }
    }
    closedir(d);
    printf("listed %d entries, %d files, numbers adding up to %ld\n", count, files, sum);
    return 0;
}

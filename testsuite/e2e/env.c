// The environment is deny-by-default: only variables granted with --env.
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(void) {
    int n = 0;
    for (char **e = environ; *e; e++) n++;
    printf("%d variables\n", n);
    const char *names[] = {"GREETING", "HOME", "PATH"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        printf("%s=%s\n", names[i], v ? v : "(unset)");
    }
    return 0;
}

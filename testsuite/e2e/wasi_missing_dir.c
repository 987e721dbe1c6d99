// kiln-e2e: expected output written by hand. A directory granted at
// compile time that does not exist when the executable starts: Kiln says
// so on stderr and exits with status 1 before the program runs (wasmtime
// refuses such a preopen before running anything too, but with its own
// message, so this cannot be recorded from it).
#include <stdio.h>

int main(void) {
    printf("the program ran\n");
    return 0;
}

/* The trivial module of the start-up measurement. */
int main(void) { return 0; }

#define STATUS 256
#include "exit_status.h"

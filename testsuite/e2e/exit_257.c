#define STATUS 257
#include "exit_status.h"

#define STATUS 0
#include "exit_status.h"

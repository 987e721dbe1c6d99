#define STATUS 125
#include "exit_status.h"

#define STATUS (-1)
#include "exit_status.h"

#define STATUS 200
#include "exit_status.h"

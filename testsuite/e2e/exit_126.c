#define STATUS 126
#include "exit_status.h"

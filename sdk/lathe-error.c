#include "lathe/lathe-error.h"

G_DEFINE_QUARK(lathe-error-quark, lathe_error)

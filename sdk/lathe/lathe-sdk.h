/* lathe-sdk.h: everything a plugin author includes. */
#pragma once

#include "lathe-artifact.h"
#include "lathe-blob.h"
#include "lathe-context.h"
#include "lathe-dataset.h"
#include "lathe-error.h"
#include "lathe-helpers.h"
#include "lathe-plugin.h"
#include "lathe-rng.h"
#include "lathe-search-space.h"
#include "lathe-json.h"

/* lathe-sdk.h: everything a plugin author includes. */
#pragma once

/**
 * SECTION:lathe-sdk
 * @title: SDK
 * @short_description: everything a plugin author includes
 *
 * Include <lathe/lathe-sdk.h> and link liblathe-sdk (pkg-config lathe-sdk).
 */

#include "lathe-artifact.h"
#include "lathe-blob.h"
#include "lathe-context.h"
#include "lathe-dataset.h"
#include "lathe-error.h"
#include "lathe-plugin.h"
#include "lathe-rng.h"
#include "lathe-search-space.h"
#include "lathe-json.h"

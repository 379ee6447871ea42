/* cli-models.h: what the files of `lathe models` share. */
#pragma once

#include "cli/cli.h"
#include "lathe-registry.h"

/* A refusal of the registry (LATHE_ERROR_INVALID) exits 2; anything else 1. */
int lathe_cli_models_error(const GError *error);
/* `lathe models history NAME [--alias A]`. */
int lathe_cli_models_history(LatheRegistry *reg, const char *name, const char *alias,
                             gboolean json);
/* `lathe models promote NAME FROM TO`. */
int lathe_cli_models_promote(LatheRegistry *reg, const char *name, const char *from,
                             const char *to, gboolean allow_signature_change, gboolean json);
/* Whether @alias may point at @version: the signature rule of
 * lathe_registry_check_signature(), for `lathe models alias`. */
gboolean lathe_cli_models_check_alias(LatheRegistry *reg, const char *name, const char *alias,
                                      guint version, gboolean allow, GError **error);
/* `lathe models export NAME@REF -o FILE` (@export, @at: the '@' in @arg)
 * or `lathe models import FILE [--name N] [--alias A]`: docs/bundles.md. */
int lathe_cli_models_bundle(LatheRegistry *reg, gboolean export, const char *arg, const char *at,
                            const char *out, const char *name, const char *alias, gboolean json);

/* params.h: checking a node's `with` block against declared params. */
#pragma once

#include "catalog.h"
#include "problems.h"

G_BEGIN_DECLS

/**
 * lathe_param_check:
 * @spec: the declaration.
 * @value: a JSON value.
 * @why: (out) (transfer full): the reason when it does not fit.
 *
 * Returns: (transfer full) (nullable): @value normalised to the declared type
 * (an integer given for a float becomes a float), or %NULL with @why set.
 */
JsonNode *lathe_param_check(const LatheParamSpec *spec, JsonNode *value, char **why);

/**
 * lathe_params_resolve:
 * @info: the component.
 * @with: (nullable): the params as written.
 * @pointer: JSON pointer of the `with` block, for problems.
 * @problems: where to add unknown, mistyped, out-of-bounds or missing params.
 * @own_only: check only the plugin's own params, not those the host adds
 *   for the kind (a registry used as a setting rather than as a node).
 *
 * Returns: (transfer full): the params with defaults filled in.
 */
JsonObject *lathe_params_resolve(LatheComponentInfo *info, JsonObject *with, const char *pointer,
                                 GPtrArray *problems, gboolean own_only);

/**
 * lathe_params_run_checks:
 * @cat: the catalog, to open the plugin when a param has a check.
 * @info: the component.
 * @with: (nullable): the params as written.
 * @resolved: the output of lathe_params_resolve().
 * @pointer: JSON pointer of the `with` block, for problems.
 * @problems: where to add each refusal.
 *
 * Runs the plugin's #LatheParamCheckFunc (ABI 1.3) on every param written in
 * @with that declares one. The plugin is opened only then: metadata from the
 * plugin cache says which params have checks.
 */
void lathe_params_run_checks(LatheCatalog *cat, LatheComponentInfo *info, JsonObject *with,
                             JsonObject *resolved, const char *pointer, GPtrArray *problems);

/** lathe_param_default: (transfer full) (nullable) the parsed default. */
JsonNode *lathe_param_default(const LatheParamSpec *spec);

G_END_DECLS

/* recordings-source.h: the source/recordings component, listed by the plugin
 * descriptor in csv-source.c. */
#pragma once

#include <lathe/lathe-sdk.h>

G_BEGIN_DECLS

/**
 * lathe_recordings_source:
 *
 * source/recordings: a <class>/.../<file> folder of recordings read into one
 * long table (a row per sample, a group per file, the class from the folder).
 */
extern const LatheSourceClass lathe_recordings_source;

G_END_DECLS

/* lathe-blob.h: the pieces of a model's saved state that every model plugin
 * needs the same way: little-endian numbers, and a short checksum that a
 * load checks before trusting any count in the bytes. */
#pragma once

/**
 * SECTION:lathe-blob
 * @title: Model blobs
 * @short_description: little-endian numbers and a checksum for model states
 *
 * The pieces of a model's saved state that every model plugin needs the same
 * way: little-endian numbers, and a short checksum that a load checks before
 * trusting any count in the bytes.
 *
 * Since: 1.3
 */

#include "lathe-api.h"

#include <glib.h>

G_BEGIN_DECLS

/**
 * LATHE_BLOB_SUM_SIZE:
 *
 * Bytes of lathe_blob_checksum(): the first 8 of SHA-256.
 */
#define LATHE_BLOB_SUM_SIZE 8

/**
 * lathe_blob_put_u32:
 * @b: the bytes written so far.
 * @v: the value.
 *
 * Appends @v, little-endian.
 */
LATHE_API void lathe_blob_put_u32(GByteArray *b, guint32 v);

/**
 * lathe_blob_put_f32:
 * @b: the bytes written so far.
 * @v: the value.
 *
 * Appends the bits of @v, little-endian.
 */
LATHE_API void lathe_blob_put_f32(GByteArray *b, float v);

/**
 * lathe_blob_put_f64:
 * @b: the bytes written so far.
 * @v: the value.
 *
 * Appends the bits of @v, little-endian, low word first.
 */
LATHE_API void lathe_blob_put_f64(GByteArray *b, double v);

/**
 * lathe_blob_get_u32:
 * @p: where to read.
 *
 * Reads a little-endian u32; 4 bytes must be there.
 *
 * Returns: the value.
 */
LATHE_API guint32 lathe_blob_get_u32(const guint8 *p);

/**
 * lathe_blob_get_f32:
 * @p: where to read.
 *
 * Reads what lathe_blob_put_f32() wrote.
 *
 * Returns: the float.
 */
LATHE_API float lathe_blob_get_f32(const guint8 *p);

/**
 * lathe_blob_get_f64:
 * @p: where to read.
 *
 * Reads what lathe_blob_put_f64() wrote.
 *
 * Returns: the double.
 */
LATHE_API double lathe_blob_get_f64(const guint8 *p);

/**
 * lathe_blob_checksum:
 * @data: (array length=len): the bytes to cover.
 * @out: (out caller-allocates): %LATHE_BLOB_SUM_SIZE bytes.
 * @len: the length of @data.
 *
 * The first %LATHE_BLOB_SUM_SIZE bytes of the SHA-256 of @data.
 */
LATHE_API void lathe_blob_checksum(const guint8 *data, gsize len, guint8 out[LATHE_BLOB_SUM_SIZE]);

/**
 * lathe_blob_seal:
 * @b: (transfer full): the state written so far.
 *
 * Appends the checksum of everything in @b.
 *
 * Returns: (transfer full): the sealed bytes.
 */
LATHE_API GBytes *lathe_blob_seal(GByteArray *b);

/**
 * lathe_blob_sealed:
 * @data: (array length=size): sealed bytes.
 * @size: the length of @data.
 *
 * Checks the seal lathe_blob_seal() wrote, before a load trusts any count in
 * the bytes.
 *
 * Returns: whether @data ends with the checksum of what comes before it.
 */
LATHE_API gboolean lathe_blob_sealed(const guint8 *data, gsize size);

G_END_DECLS

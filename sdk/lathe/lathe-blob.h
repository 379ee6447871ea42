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

/**
 * LatheBlobReader:
 * @p: the next unread byte.
 * @left: how many bytes remain from @p.
 *
 * A cursor over saved bytes that refuses to read past the end: start it as
 * `LatheBlobReader r = {data, size};`. The lathe_blob_read_*() calls return
 * %FALSE, and leave the cursor where it was, when too few bytes are left.
 *
 * Since: 1.4
 */
typedef struct {
  const guint8 *p;
  gsize left;
} LatheBlobReader;

/**
 * lathe_blob_read_u32:
 * @r: a cursor.
 * @v: (out): the little-endian u32 at the cursor.
 *
 * Reads a u32 and moves past it.
 *
 * Returns: %FALSE when fewer than 4 bytes are left.
 *
 * Since: 1.4
 */
LATHE_API gboolean lathe_blob_read_u32(LatheBlobReader *r, guint32 *v);

/**
 * lathe_blob_read_u64:
 * @r: a cursor.
 * @v: (out): the u64 at the cursor, written as two little-endian u32s, low
 *   word first.
 *
 * Reads a u64 and moves past it.
 *
 * Returns: %FALSE when fewer than 8 bytes are left.
 *
 * Since: 1.4
 */
LATHE_API gboolean lathe_blob_read_u64(LatheBlobReader *r, guint64 *v);

/**
 * lathe_blob_read_bytes:
 * @r: a cursor.
 * @n: how many bytes to take.
 * @out: (out) (transfer none) (optional): where they start, inside the
 *   cursor's buffer.
 *
 * Takes @n bytes (a string, a block of floats) and moves past them.
 *
 * Returns: %FALSE when fewer than @n bytes are left.
 *
 * Since: 1.4
 */
LATHE_API gboolean lathe_blob_read_bytes(LatheBlobReader *r, guint64 n, const guint8 **out);

/**
 * LATHE_BLOB_HEADER_SIZE:
 *
 * Bytes of the header lathe_blob_put_header() writes: an 8-byte magic, then
 * the format version as a little-endian u32.
 *
 * Since: 1.4
 */
#define LATHE_BLOB_HEADER_SIZE 12

/**
 * lathe_blob_put_header:
 * @b: an empty byte array, the state being written.
 * @magic: exactly 8 bytes naming the format ("LATHEFOR"); no terminator is
 *   written.
 * @format: the version of the layout that follows.
 *
 * Starts a saved state with its magic and format version, the preamble every
 * bundled model state has.
 *
 * Since: 1.4
 */
LATHE_API void lathe_blob_put_header(GByteArray *b, const char *magic, guint32 format);

/**
 * lathe_blob_corrupt:
 * @error: return location for a #GError, or %NULL.
 * @component: the model component ("model/forest").
 * @why: what is wrong with the bytes ("checksum mismatch").
 *
 * Sets @error (%LATHE_ERROR_DATA) to "COMPONENT: saved model is corrupt or
 * truncated (WHY); retrain or restore the artifact".
 *
 * Returns: (transfer none): %NULL, so that a load can `return
 * lathe_blob_corrupt (...)`.
 *
 * Since: 1.4
 */
LATHE_API gpointer lathe_blob_corrupt(GError **error, const char *component, const char *why);

/**
 * lathe_blob_read_header:
 * @state: (nullable): a saved state.
 * @component: the model component, for messages.
 * @magic: the 8 bytes lathe_blob_put_header() was given.
 * @format: the only format version this load reads.
 * @header_size: bytes of the whole fixed header (at least
 *   %LATHE_BLOB_HEADER_SIZE), before the payload.
 * @size: (out): the size of @state.
 * @error: return location for a #GError, or %NULL.
 *
 * Checks, in this order, that @state has bytes, holds @header_size bytes and
 * the checksum, starts with @magic and has format @format; each refusal is a
 * lathe_blob_corrupt() message. The checksum itself is left to the caller
 * (lathe_blob_sealed()), which usually checks the sizes first.
 *
 * Returns: (transfer none) (nullable): the bytes of @state, or %NULL with
 * @error set.
 *
 * Since: 1.4
 */
LATHE_API const guint8 *lathe_blob_read_header(GBytes *state, const char *component,
                                               const char *magic, guint32 format,
                                               gsize header_size, gsize *size, GError **error);

G_END_DECLS

/* model-nn-util.h: what the neural model tests share: synthetic datasets,
 * fitting through the ABI, a host that records reports and can cancel, and
 * the blob damage checks. */
#pragma once

#include "test-util.h"

/** nn_model: the model class of model/@family, loaded from its plugin. */
const LatheModelClass *nn_model(const char *family);

/** make_blobs: @n rows of @k Gaussian clusters in @d dims ("a", "b", ...). */
LatheDataset *make_blobs(guint n, guint d, guint k, guint64 seed);

/**
 * make_waves:
 * @var_len: give each row a random length in [steps/2, steps], zero-padded.
 *
 * Sequences of 2 channels whose class is the frequency of a noisy sine
 * (random phase and amplitude) on channel 0; channel 1 is noise.
 */
LatheDataset *make_waves(guint n, guint steps, gboolean var_len, guint64 seed);

/**
 * make_bumps:
 *
 * Sequences of 1 channel of noise with one bump of 3 steps; the class is
 * whether the bump is in the first, middle or last third of the row's
 * valid steps.
 */
LatheDataset *make_bumps(guint n, guint steps, gboolean var_len, guint64 seed);

/** split_rows: every @every-th row to @test, the rest to @train. */
void split_rows(const LatheDataset *ds, guint every, LatheDataset **train, LatheDataset **test);

/** nn_fit: fits with @params (JSON, defaults filled) on a test context. */
gpointer nn_fit(const LatheModelClass *m, const char *params, const LatheDataset *train,
                const LatheDataset *valid, guint64 seed, GError **error);

/** nn_accuracy: the share of rows whose most probable class is the label. */
double nn_accuracy(const float *probs, const LatheDataset *ds, guint k);

/** assert_probabilities: every row is finite, in [0, 1] and sums to 1. */
void assert_probabilities(const float *probs, guint n, guint k);

/**
 * ReportLog:
 *
 * What the recording host saw: the last value of each report per epoch, in
 * arrays indexed by epoch - 1, and the number of reports. @cancel_at cancels
 * the node on that report (0 = never).
 */
typedef struct {
  GArray *loss, *val_loss, *val_accuracy, *seconds; /* double */
  guint reports;
  guint cancel_at;
} ReportLog;

void report_log_init(ReportLog *log);
void report_log_clear(ReportLog *log);

/** report_context: (transfer full) a context whose host records into @log. */
LatheContext *report_context(const LatheModelClass *m, const char *params, guint64 seed,
                             ReportLog *log);

/**
 * check_blob_refusals:
 *
 * @blob must load; every truncation of it, every single flipped byte (all of
 * them for blobs up to 64 KiB), a wrong state version, and re-sealed blobs
 * with a NaN weight, another family, an architecture that does not match the
 * weights and a bad shape must each be refused with %LATHE_ERROR_DATA.
 */
void check_blob_refusals(const LatheModelClass *m, GBytes *blob);

/** reseal: (transfer full) @data with its trailing SHA-256 recomputed. */
GBytes *reseal(const guint8 *data, gsize len);

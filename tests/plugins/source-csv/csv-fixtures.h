/* csv-fixtures.h: temporary CSV files, folders and archives for the
 * source/csv tests, and a way to run the component on them. */
#pragma once

#include "test-util.h"

/** csv_fixtures_init: makes a fresh temporary folder; call once from main. */
void csv_fixtures_init(void);
/** csv_fixtures_cleanup: removes it; returns @status for main to return. */
int csv_fixtures_cleanup(int status);
/** csv_fixture_dir: (transfer none) the temporary folder (the base dir). */
const char *csv_fixture_dir(void);

/**
 * csv_fixture_write:
 * @rel: path under the fixture folder; parent folders are created.
 * @data: the bytes.
 * @len: their length, or -1 for a string.
 *
 * Returns: (transfer full): the absolute path.
 */
char *csv_fixture_write(const char *rel, const char *data, gssize len);

/** csv_fixture_put: csv_fixture_write() when the path is not needed. */
void csv_fixture_put(const char *rel, const char *data, gssize len);

/**
 * csv_fixture_archive:
 * @rel: archive path under the fixture folder (".zip" or ".tar.gz").
 * @entries: %NULL-terminated pairs of member name and content; a name ending
 *   in '/' is written as a folder entry.
 *
 * Returns: (transfer full): the absolute path.
 */
char *csv_fixture_archive(const char *rel, const char *const *entries);

/** csv_fixture_put_archive: csv_fixture_archive() without the path. */
void csv_fixture_put_archive(const char *rel, const char *const *entries);

/** csv_sha256_of: (transfer full) hex SHA-256 of a file's bytes. */
char *csv_sha256_of(const char *path);

/**
 * csv_context:
 * @params_json: params of source/csv; defaults fill the rest.
 *
 * Returns: (transfer full): a context whose base dir is the fixture folder.
 */
LatheContext *csv_context(const char *params_json);

/**
 * csv_run_ok:
 * @ctx: from csv_context().
 *
 * Runs source/csv and fails the test on an error.
 *
 * Returns: (transfer none): the "data" output, valid while @ctx lives.
 */
const LatheDataset *csv_run_ok(LatheContext *ctx);

/**
 * csv_run_error:
 * @params_json: params.
 * @code: the #LatheErrorCode expected.
 *
 * Runs source/csv expecting a failure with @code and no output.
 *
 * Returns: (transfer full): the error message.
 */
char *csv_run_error(const char *params_json, int code);

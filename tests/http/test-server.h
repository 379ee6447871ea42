/* test-server.h: a SoupServer on 127.0.0.1 (random port), on a thread and
 * main context of its own, with the endpoints the HTTP tests talk to. */
#pragma once

#include <libsoup/soup.h>

typedef struct TestServer TestServer;

TestServer *test_server_start(void);
void test_server_stop(TestServer *ts);
/* "http://127.0.0.1:PORT", no trailing slash. */
const char *test_server_url(TestServer *ts);
/* Requests the server saw for @path. */
guint test_server_hits(TestServer *ts, const char *path);

/* The bytes of /big?size=N: chunk @index (64 KiB each) of a fixed
 * pseudo-random stream, so a test can compute the expected digest. */
#define TEST_BIG_CHUNK (64 * 1024)
void test_big_chunk(guint64 index, guint8 *buf);

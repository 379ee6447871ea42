/* fuzz-replay.c: a libFuzzer-free driver for any fuzz harness.
 *
 * Linked with exactly one harness file (one LLVMFuzzerTestOneInput), it runs
 * every file of the given corpus folders or files, then a deterministic series
 * of random mutations of them (bit flips, CSV/JSON-ish byte insertions,
 * deletions, duplications, repeats, splices, truncations). So every build, gcc
 * included, keeps the seeds and a few thousand of their neighbours passing,
 * and a crasher found by libFuzzer can be replayed under a debugger:
 *
 *   fuzz-NAME-replay [-n MUTATIONS] [-s SEED] CORPUS_DIR_OR_FILE...
 *
 * Set FUZZ_REPLAY_DUMP=path to have each input written there before it runs:
 * after a crash the file holds the input that caused it.
 *
 * Plain C and POSIX only, so it links with any harness.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_MAX_INPUT (64 * 1024)
#define MIN_(a, b) ((a) < (b) ? (a) : (b))

typedef struct {
  uint8_t *data;
  size_t size;
} Input;

static Input *seeds;
static size_t n_seeds, cap_seeds;
static const char *dump_path;
static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static size_t below(size_t n) {
  return n ? (size_t)(rnd() % n) : 0;
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "fuzz-replay: out of memory\n");
    exit(2);
  }
  return q;
}

static void run(const uint8_t *data, size_t size) {
  if (dump_path) {
    FILE *f = fopen(dump_path, "wb");
    if (f) {
      fwrite(data, 1, size, f);
      fclose(f);
    }
  }
  /* A private copy, so reading past the end is caught by ASan in sanitized
   * builds rather than landing in a neighbour. */
  uint8_t *copy = xrealloc(NULL, size);
  if (size)
    memcpy(copy, data, size);
  LLVMFuzzerTestOneInput(copy, size);
  free(copy);
}

static int add_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fuzz-replay: cannot open %s\n", path);
    return 0;
  }
  Input in = {NULL, 0};
  size_t cap = 0;
  for (;;) {
    if (in.size == cap) {
      cap = cap ? cap * 2 : 4096;
      in.data = xrealloc(in.data, cap);
    }
    size_t n = fread(in.data + in.size, 1, cap - in.size, f);
    if (n == 0)
      break;
    in.size += n;
  }
  fclose(f);
  if (n_seeds == cap_seeds) {
    cap_seeds = cap_seeds ? cap_seeds * 2 : 16;
    seeds = xrealloc(seeds, cap_seeds * sizeof(Input));
  }
  seeds[n_seeds++] = in;
  return 1;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds a file, or every file under a folder in name order (stable seeds). */
static int add_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "fuzz-replay: %s does not exist\n", path);
    return 0;
  }
  if (!S_ISDIR(st.st_mode))
    return add_file(path);
  DIR *d = opendir(path);
  if (!d)
    return 0;
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    names = xrealloc(names, (n + 1) * sizeof(char *));
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    names[n] = xrealloc(NULL, len);
    snprintf(names[n++], len, "%s/%s", path, e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(char *), cmp_names);
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    ok &= add_path(names[i]);
    free(names[i]);
  }
  free(names);
  return ok;
}

/* Bytes that matter to text parsers: separators, quotes, line breaks, the
 * UTF-8 byte order mark, number characters, JSON punctuation, NUL, high. */
static const uint8_t interesting[] = {',', ';', '\t', '"', '\'', '\r', '\n', ' ', 0xEF,
                                      0xBB, 0xBF, '.', 'e', 'E', '-', '+', '0', '1',
                                      '9', '{', '}', '[', ']', ':', '\\', 0, 0xFF, 0x80};

static void mutate(Input *in) {
  size_t rounds = 1 + below(4);
  for (size_t r = 0; r < rounds; r++) {
    size_t pos = below(in->size + 1);
    switch (below(8)) {
    case 0: /* flip a bit */
      if (in->size)
        in->data[below(in->size)] ^= (uint8_t)(1u << below(8));
      break;
    case 1: /* overwrite with an interesting byte */
      if (in->size)
        in->data[below(in->size)] = interesting[below(sizeof interesting)];
      break;
    case 2: /* insert an interesting byte */
      if (in->size < FUZZ_MAX_INPUT) {
        in->data = xrealloc(in->data, in->size + 1);
        memmove(in->data + pos + 1, in->data + pos, in->size - pos);
        in->data[pos] = interesting[below(sizeof interesting)];
        in->size++;
      }
      break;
    case 3: { /* delete a range */
      size_t len = below(MIN_(in->size - (pos < in->size ? pos : in->size), 16) + 1);
      memmove(in->data + pos, in->data + pos + len, in->size - pos - len);
      in->size -= len;
      break;
    }
    case 4:   /* duplicate a range, possibly many times */
    case 5: { /* (two cases: growth finds limits and quadratic paths) */
      if (!in->size)
        break;
      size_t from = below(in->size);
      size_t len = 1 + below(MIN_(in->size - from, 64));
      size_t times = below(4) == 0 ? 1 + below(256) : 1;
      if (in->size + len * times > FUZZ_MAX_INPUT)
        break;
      uint8_t *piece = xrealloc(NULL, len);
      memcpy(piece, in->data + from, len);
      in->data = xrealloc(in->data, in->size + len * times);
      memmove(in->data + pos + len * times, in->data + pos, in->size - pos);
      for (size_t t = 0; t < times; t++)
        memcpy(in->data + pos + t * len, piece, len);
      in->size += len * times;
      free(piece);
      break;
    }
    case 6: { /* splice: our head, another seed's tail */
      const Input *o = &seeds[below(n_seeds)];
      size_t from = below(o->size + 1);
      size_t tail = o->size - from;
      if (pos + tail > FUZZ_MAX_INPUT)
        break;
      in->data = xrealloc(in->data, pos + tail);
      if (tail)
        memcpy(in->data + pos, o->data + from, tail);
      in->size = pos + tail;
      break;
    }
    default: /* truncate */
      in->size = pos;
      break;
    }
  }
}

static void usage(void) {
  fprintf(stderr, "usage: fuzz-replay [-n MUTATIONS] [-s SEED] CORPUS_DIR_OR_FILE...\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  unsigned long mutations = 3000, seed = 1;
  int ok = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc)
      mutations = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "-s") && i + 1 < argc)
      seed = strtoul(argv[++i], NULL, 10);
    else if (argv[i][0] == '-')
      usage();
    else
      ok &= add_path(argv[i]);
  }
  if (!ok || n_seeds == 0) {
    fprintf(stderr, "fuzz-replay: no corpus inputs\n");
    return 2;
  }
  dump_path = getenv("FUZZ_REPLAY_DUMP");
  rng_state = seed;

  for (size_t i = 0; i < n_seeds; i++)
    run(seeds[i].data, seeds[i].size);
  run(NULL, 0);

  for (unsigned long m = 0; m < mutations; m++) {
    const Input *s = &seeds[below(n_seeds)];
    Input in = {xrealloc(NULL, s->size), s->size};
    if (s->size)
      memcpy(in.data, s->data, s->size);
    mutate(&in);
    run(in.data, in.size);
    free(in.data);
  }
  printf("fuzz-replay: %zu corpus inputs and %lu mutations (seed %lu) passed\n", n_seeds,
         mutations, seed);
  for (size_t i = 0; i < n_seeds; i++)
    free(seeds[i].data);
  free(seeds);
  return 0;
}

/* tune-functions.h: the benchmark functions of issue 5 (minimised), shared by
 * the tuner tests and bench/tune. Domains follow the usual definitions
 * (Surjanovic & Bingham's library of test functions). */
#pragma once

#include <math.h>

/* Branin on x1 in [-5, 10], x2 in [0, 15]; f* = 0.397887. */
static inline double lathe_fn_branin(const double *x) {
  const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
               t = 1 / (8 * M_PI);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
  return a * u * u + s * (1 - t) * cos(x[0]) + s;
}

/* Hartmann-6 on [0, 1]^6; f* = -3.32237. */
static inline double lathe_fn_hartmann6(const double *x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                 {2329, 4135, 8307, 3736, 1004, 9991},
                                 {2348, 1451, 3522, 2883, 3047, 6650},
                                 {4047, 8828, 8732, 5743, 1091, 381}};
  double f = 0;
  for (int i = 0; i < 4; i++) {
    double e = 0;
    for (int j = 0; j < 6; j++) {
      double d = x[j] - P[i][j] * 1e-4;
      e += A[i][j] * d * d;
    }
    f -= alpha[i] * exp(-e);
  }
  return f;
}

/* Rosenbrock in n dimensions on [-5, 10]^n; f* = 0 at (1, ..., 1). */
static inline double lathe_fn_rosenbrock(const double *x, int n) {
  double f = 0;
  for (int i = 0; i + 1 < n; i++) {
    double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    f += 100 * a * a + b * b;
  }
  return f;
}

/* Ackley in n dimensions on [-32.768, 32.768]^n; f* = 0 at the origin. */
static inline double lathe_fn_ackley(const double *x, int n) {
  double s1 = 0, s2 = 0;
  for (int i = 0; i < n; i++) {
    s1 += x[i] * x[i];
    s2 += cos(2 * M_PI * x[i]);
  }
  return -20 * exp(-0.2 * sqrt(s1 / n)) - exp(s2 / n) + 20 + M_E;
}

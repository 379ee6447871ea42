"""The benchmark functions of issue 5 (minimised), as tests/tune/tune-functions.h
defines them for the C side, with their domains and optima."""
import math

# name -> (dimensions, [(low, high)] per dimension, f*)
DOMAINS = {
    "branin": (2, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    "hartmann6": (6, [(0.0, 1.0)] * 6, -3.32237),
    "rosenbrock": (10, [(-5.0, 10.0)] * 10, 0.0),
    "ackley": (10, [(-32.768, 32.768)] * 10, 0.0),
}


def branin(x):
    a, b, c = 1.0, 5.1 / (4 * math.pi * math.pi), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    u = x[1] - b * x[0] * x[0] + c * x[0] - r
    return a * u * u + s * (1 - t) * math.cos(x[0]) + s


_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
        (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
_H_P = ((1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
        (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381))


def hartmann6(x):
    f = 0.0
    for i in range(4):
        e = 0.0
        for j in range(6):
            d = x[j] - _H_P[i][j] * 1e-4
            e += _H_A[i][j] * d * d
        f -= _H_ALPHA[i] * math.exp(-e)
    return f


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    n = len(x)
    s1 = sum(v * v for v in x)
    s2 = sum(math.cos(2 * math.pi * v) for v in x)
    return -20 * math.exp(-0.2 * math.sqrt(s1 / n)) - math.exp(s2 / n) + 20 + math.e


FUNCTIONS = {"branin": branin, "hartmann6": hartmann6, "rosenbrock": rosenbrock,
             "ackley": ackley}

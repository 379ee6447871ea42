/* lathe-api.h: symbol visibility for the SDK. */
#pragma once

/**
 * LATHE_API:
 *
 * Marks a function the SDK library exports. The SDK and every plugin are
 * built with hidden visibility, so a symbol without it stays private to its
 * library: a plugin exports its entry point and nothing else.
 *
 * Since: 1.4
 */
#if defined(__GNUC__) || defined(__clang__)
#define LATHE_API __attribute__((visibility("default")))
#else
#define LATHE_API
#endif

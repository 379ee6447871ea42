/* test-asan.h: UNDER_ASAN is defined when the test is built with
 * AddressSanitizer (gcc's __SANITIZE_ADDRESS__ or clang's feature check).
 * ASan's allocator aborts on absurd requests instead of failing them, keeps
 * freed blocks in a quarantine and runs slower, so checks of allocation
 * failure, peak memory and time are skipped or loosened under it. */
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

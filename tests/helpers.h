// Small helpers shared by the Criterion tests.
#ifndef ZXVMO_TESTS_HELPERS_H_
#define ZXVMO_TESTS_HELPERS_H_

#include <stdint.h>
#include <zircon/syscalls.h>
#include <zxvmo.h>

#define PG ((uint64_t)4096)

// Creates a VMO of `size` bytes (options 0) or fails the test.
zx_handle_t mkvmo(uint64_t size);
// Creates a VMO and fills each page i with the byte `seed + i`.
zx_handle_t mkvmo_filled(uint64_t pages, uint8_t seed);
// Reads one byte at `off`, failing the test on error.
uint8_t rd8(zx_handle_t vmo, uint64_t off);
// Writes one byte at `off`, failing the test on error.
void wr8(zx_handle_t vmo, uint64_t off, uint8_t v);
// Returns the VMO's ZX_INFO_VMO record, failing the test on error.
zx_info_vmo_t vmo_info(zx_handle_t vmo);
// Returns the rights of a handle.
zx_rights_t handle_rights(zx_handle_t h);
// Library-wide pages_in_use.
uint64_t pages_in_use(void);

#endif

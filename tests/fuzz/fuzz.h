/*
 * fuzz.h - the libFuzzer entry point every tests/fuzz/fuzz_<name>.c defines.
 *
 * The same target file links either with libFuzzer (./configure
 * --enable-fuzz, make fuzz) or with fuzz_replay.c, which replays a seed
 * corpus through it under make check. A target aborts on any property
 * that must hold for every input, so both drivers report it as a crash.
 */
#ifndef KC_FUZZ_H
#define KC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input through the code under test; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* KC_FUZZ_H */
